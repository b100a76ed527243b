//! The offline store of one business: every push the network has for it, in order, until the
//! business's client acknowledges it.
//!
//! A push is *pending* until a session takes it, then *unacked* until the client's `Ack`. When a
//! session goes away its unacked pushes become pending again; because ids increase with every
//! push, keeping both sets ordered by id puts them back at the front in their original order.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use wa_netproto::Push;

/// The session a business is connected through.
#[derive(Clone)]
pub struct SessionLink {
    pub id: u64,
    /// Woken when a push is queued, so the session's writer takes it.
    pub wake: Arc<Notify>,
    /// Cancelled to close the session (replaced by a newer one, credentials revoked).
    pub close: CancellationToken,
}

pub struct Attached {
    pub backlog: usize,
    /// Id of the last backlog push (0 when there is none): pushes with a higher id are news.
    pub backlog_last_id: u64,
    pub replaced: Option<SessionLink>,
}

#[derive(Default)]
pub struct Outbox {
    last_id: u64,
    pending: BTreeMap<u64, Push>,
    unacked: BTreeMap<u64, Push>,
    session: Option<SessionLink>,
    /// Ids queued or acknowledged since the state store last took them.
    dirty: BTreeSet<u64>,
}

impl Outbox {
    /// Queues a push and wakes the connected session, if any. Returns its id.
    pub fn push(&mut self, push: Push) -> u64 {
        let id = self.next_id();
        self.pending.insert(id, push);
        self.dirty.insert(id);
        if let Some(session) = &self.session {
            session.wake.notify_one();
        }
        id
    }

    /// A fresh id for a push that is not stored (the end-of-backlog marker).
    pub fn next_id(&mut self) -> u64 {
        self.last_id += 1;
        self.last_id
    }

    /// Makes `session` the business's session. The pushes pending at this moment are its
    /// backlog; the session it replaced is returned for the caller to close.
    pub fn attach(&mut self, session: SessionLink) -> Attached {
        let replaced = self.session.take();
        self.requeue_unacked();
        session.wake.notify_one();
        self.session = Some(session);
        Attached {
            backlog: self.pending.len(),
            backlog_last_id: self.pending.last_key_value().map_or(0, |(id, _)| *id),
            replaced,
        }
    }

    /// Forgets `session_id` if it is still the attached session, so its unacked pushes go to
    /// the next one. Returns the link that was detached.
    pub fn detach(&mut self, session_id: u64) -> Option<SessionLink> {
        if self.session.as_ref().map(|s| s.id) != Some(session_id) {
            return None;
        }
        self.requeue_unacked();
        self.session.take()
    }

    /// Closes whatever session is attached (its credentials were revoked).
    pub fn detach_any(&mut self) -> Option<SessionLink> {
        let id = self.session.as_ref()?.id;
        self.detach(id)
    }

    /// Up to `max` pending pushes for `session_id` to send, now counted as unacked; `None` when
    /// that session is no longer the attached one and must stop.
    pub fn take(&mut self, session_id: u64, max: usize) -> Option<Vec<(u64, Push)>> {
        if !self.is_attached(session_id) {
            return None;
        }
        let mut batch = Vec::with_capacity(max.min(self.pending.len()));
        while batch.len() < max {
            let Some((id, push)) = self.pending.pop_first() else {
                break;
            };
            self.unacked.insert(id, push.clone());
            batch.push((id, push));
        }
        Some(batch)
    }

    /// The client has persisted push `id`. Also drops it from the pending set, in case the ack
    /// arrives from a session that was replaced after receiving it: it must not come twice.
    pub fn ack(&mut self, id: u64) {
        if self.unacked.remove(&id).is_none() {
            self.pending.remove(&id);
        }
        self.dirty.insert(id);
    }

    /// The push ids changed since the last call, each with the push when it is still waiting.
    pub fn take_dirty(&mut self) -> Vec<(u64, Option<&Push>)> {
        let dirty = std::mem::take(&mut self.dirty);
        dirty
            .into_iter()
            .map(|id| (id, self.pending.get(&id).or_else(|| self.unacked.get(&id))))
            .collect()
    }

    /// The last id handed out, stored so ids keep increasing across restarts.
    pub fn last_id(&self) -> u64 {
        self.last_id
    }

    /// Puts back stored pushes (all pending: no session exists yet) and the id sequence.
    pub fn restore(&mut self, last_id: u64, pushes: Vec<(u64, Push)>) {
        self.pending.extend(pushes);
        let highest = self.pending.last_key_value().map_or(0, |(id, _)| *id);
        self.last_id = last_id.max(highest);
    }

    pub fn is_attached(&self, session_id: u64) -> bool {
        self.session.as_ref().map(|s| s.id) == Some(session_id)
    }

    pub fn connected(&self) -> bool {
        self.session.is_some()
    }

    pub fn queued(&self) -> usize {
        self.pending.len()
    }

    pub fn unacked(&self) -> usize {
        self.unacked.len()
    }

    fn requeue_unacked(&mut self) {
        self.pending.append(&mut self.unacked);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(id: u64) -> SessionLink {
        SessionLink {
            id,
            wake: Arc::new(Notify::new()),
            close: CancellationToken::new(),
        }
    }

    fn inbound(n: u32) -> Push {
        Push::Inbound {
            id: format!("m{n}"),
            from: "16315551234".into(),
            profile_name: "Kerry".into(),
            timestamp: 0,
            message: serde_json::json!({"type": "text", "text": {"body": n.to_string()}}),
        }
    }

    fn ids(batch: &[(u64, Push)]) -> Vec<u64> {
        batch.iter().map(|(id, _)| *id).collect()
    }

    #[test]
    fn unacked_pushes_return_to_the_front_in_order() {
        let mut outbox = Outbox::default();
        for n in 0..3 {
            outbox.push(inbound(n));
        }
        let attached = outbox.attach(link(1));
        assert_eq!((attached.backlog, attached.backlog_last_id), (3, 3));
        let first = outbox.take(1, 2).unwrap();
        assert_eq!(ids(&first), vec![1, 2]);
        outbox.ack(1);
        outbox.push(inbound(3));
        outbox.detach(1);
        assert_eq!(outbox.attach(link(2)).backlog, 3);
        assert_eq!(ids(&outbox.take(2, 10).unwrap()), vec![2, 3, 4]);
    }

    #[test]
    fn a_replaced_session_can_take_nothing_more() {
        let mut outbox = Outbox::default();
        outbox.attach(link(1));
        let replaced = outbox.attach(link(2)).replaced;
        assert_eq!(replaced.map(|s| s.id), Some(1));
        assert!(outbox.take(1, 10).is_none());
        assert!(
            outbox.detach(1).is_none(),
            "a stale detach must not drop the new session"
        );
        assert!(outbox.connected());
    }

    #[test]
    fn an_ack_from_a_replaced_session_prevents_a_resend() {
        let mut outbox = Outbox::default();
        outbox.push(inbound(0));
        outbox.attach(link(1));
        let batch = outbox.take(1, 10).unwrap();
        outbox.attach(link(2));
        outbox.ack(batch[0].0);
        assert_eq!(outbox.take(2, 10).unwrap().len(), 0);
    }
}
