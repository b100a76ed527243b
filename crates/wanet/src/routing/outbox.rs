//! The offline store of one business: every push the network has for it, in order, until the
//! business's client acknowledges it.
//!
//! A push is *pending* until a session takes it, then *unacked* until the client's `Ack`. When a
//! session goes away its unacked pushes become pending again; because ids increase with every
//! push, keeping both sets ordered by id puts them back at the front in their original order.
//!
//! Pushes wait as their JSON text ([`Stored`]), parsed again only when a session takes them: a
//! parsed message is a tree of maps costing several hundred bytes per object, so a backlog of
//! 100,000 messages held about 300 MiB parsed and a tenth of that as text. The text is also
//! what the state store writes.

use crate::routing::shards::{consumer_of, covers, SessionLink, Sessions};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use wa_netproto::{NetError, Push, SessionScope};

pub struct Attached {
    pub backlog: usize,
    /// Id of the last backlog push (0 when there is none): pushes with a higher id are news.
    pub backlog_last_id: u64,
    pub replaced: Vec<SessionLink>,
}

#[derive(Default)]
pub struct Outbox {
    last_id: u64,
    pending: BTreeMap<u64, Stored>,
    unacked: BTreeMap<u64, Stored>,
    /// The session that took each unacked push, so a session that goes away gives back only
    /// its own (the other shards' sessions keep theirs).
    taken_by: HashMap<u64, u64>,
    /// The sessions carrying the business, one per shard (shards.rs).
    sessions: Sessions,
    /// Ids queued or acknowledged since the state store last took them.
    dirty: BTreeSet<u64>,
}

impl Outbox {
    /// Queues a push and wakes the connected session, if any. Returns its id.
    pub fn push(&mut self, push: Push) -> u64 {
        let id = self.next_id();
        if let Some(session) = self.sessions.carrier(consumer_of(&push)) {
            session.wake.notify_one();
        }
        if let Some(stored) = Stored::of(&push) {
            self.pending.insert(id, stored);
            self.dirty.insert(id);
        }
        id
    }

    /// Tells every attached session `push` (not stored: see [`Sessions::notice_all`]).
    pub fn notice(&mut self, push: &Push) {
        self.sessions.notice_all(push);
    }

    /// A fresh id for a push that is not stored (the end-of-backlog marker, notices).
    pub fn next_id(&mut self) -> u64 {
        self.last_id += 1;
        self.last_id
    }

    /// Makes `session` a session of the business for `scope`. The pushes of its scope pending at
    /// this moment are its backlog; the sessions it replaced are returned for the caller to
    /// close. Refused (1018) when a newer epoch holds the shard.
    pub fn attach(
        &mut self,
        session: SessionLink,
        scope: SessionScope,
    ) -> Result<Attached, NetError> {
        let wake = session.wake.clone();
        let replaced = self.sessions.attach(session, scope)?;
        for old in &replaced {
            self.requeue_unacked(old.id);
        }
        wake.notify_one();
        let backlog: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, stored)| covers(&scope, &stored.consumer))
            .map(|(id, _)| *id)
            .collect();
        Ok(Attached {
            backlog: backlog.len(),
            backlog_last_id: backlog.last().copied().unwrap_or(0),
            replaced,
        })
    }

    /// Forgets `session_id` if it is still attached, so its unacked pushes go to the next
    /// session of its shard. Returns the link that was detached.
    pub fn detach(&mut self, session_id: u64) -> Option<SessionLink> {
        let link = self.sessions.detach(session_id)?;
        self.requeue_unacked(session_id);
        Some(link)
    }

    /// Closes whatever sessions are attached (credentials revoked, outage).
    pub fn detach_any(&mut self) -> Vec<SessionLink> {
        let links = self.sessions.detach_all();
        self.pending.append(&mut self.unacked);
        self.taken_by.clear();
        links
    }

    /// Up to `max` pending pushes for `session_id` to send, now counted as unacked, and then its
    /// notices when there is room; `None` when that session is no longer the attached one and
    /// must stop.
    pub fn take(&mut self, session_id: u64, max: usize) -> Option<Vec<(u64, Push)>> {
        let mut batch = self.take_pending(session_id, max)?;
        // After the stored pushes, and only once they are all out: a notice's fresh id is past
        // the backlog, and the session sends its end-of-backlog marker before the first such id.
        if batch.len() < max {
            for notice in self.sessions.take_notices(session_id) {
                let id = self.next_id();
                batch.push((id, notice));
            }
        }
        Some(batch)
    }

    fn take_pending(&mut self, session_id: u64, max: usize) -> Option<Vec<(u64, Push)>> {
        let scope = self.sessions.scope_of(session_id)?;
        let ids: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, stored)| covers(&scope, &stored.consumer))
            .map(|(id, _)| *id)
            .take(max)
            .collect();
        let mut batch = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(stored) = self.pending.remove(&id) else {
                continue;
            };
            let Some(push) = stored.parse(id) else {
                // Never sendable: forgotten, also by the state store.
                self.dirty.insert(id);
                continue;
            };
            batch.push((id, push));
            self.unacked.insert(id, stored);
            self.taken_by.insert(id, session_id);
        }
        Some(batch)
    }

    /// The client has persisted push `id`. Also drops it from the pending set, in case the ack
    /// arrives from a session that was replaced after receiving it: it must not come twice.
    pub fn ack(&mut self, id: u64) {
        if self.unacked.remove(&id).is_none() {
            self.pending.remove(&id);
        }
        self.taken_by.remove(&id);
        self.dirty.insert(id);
    }

    /// The push ids changed since the last call, each with the push's JSON when it is still
    /// waiting.
    pub fn take_dirty(&mut self) -> Vec<(u64, Option<&str>)> {
        let dirty = std::mem::take(&mut self.dirty);
        dirty
            .into_iter()
            .map(|id| {
                let stored = self.pending.get(&id).or_else(|| self.unacked.get(&id));
                (id, stored.map(|s| &*s.json))
            })
            .collect()
    }

    /// The last id handed out, stored so ids keep increasing across restarts.
    pub fn last_id(&self) -> u64 {
        self.last_id
    }

    /// Puts back stored pushes (all pending: no session exists yet) and the id sequence.
    pub fn restore(&mut self, last_id: u64, pushes: Vec<(u64, Push)>) {
        let stored = pushes
            .into_iter()
            .filter_map(|(id, push)| Some((id, Stored::of(&push)?)));
        self.pending.extend(stored);
        let highest = self.pending.last_key_value().map_or(0, |(id, _)| *id);
        self.last_id = last_id.max(highest);
    }

    pub fn connected(&self) -> bool {
        !self.sessions.is_empty()
    }

    pub fn sessions_mut(&mut self) -> &mut Sessions {
        &mut self.sessions
    }

    pub fn queued(&self) -> usize {
        self.pending.len()
    }

    pub fn unacked(&self) -> usize {
        self.unacked.len()
    }

    /// Puts the pushes `session_id` took and did not acknowledge back in the pending set.
    fn requeue_unacked(&mut self, session_id: u64) {
        let mine: Vec<u64> = self
            .taken_by
            .iter()
            .filter(|(_, by)| **by == session_id)
            .map(|(id, _)| *id)
            .collect();
        for id in mine {
            self.taken_by.remove(&id);
            if let Some(push) = self.unacked.remove(&id) {
                self.pending.insert(id, push);
            }
        }
    }
}

/// A waiting push: its JSON, and the consumer it is about (which decides the shard carrying it).
struct Stored {
    consumer: Box<str>,
    json: Box<str>,
}

impl Stored {
    fn of(push: &Push) -> Option<Stored> {
        match serde_json::to_string(push) {
            Ok(json) => Some(Stored {
                consumer: consumer_of(push).into(),
                json: json.into(),
            }),
            // Not reachable for these types (string keys only); said loudly if it ever is.
            Err(error) => {
                tracing::error!(%error, "push not serializable; not queued");
                None
            }
        }
    }

    fn parse(&self, id: u64) -> Option<Push> {
        serde_json::from_str(&self.json)
            .inspect_err(|error| tracing::error!(id, %error, "stored push unreadable; skipped"))
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(id: u64) -> SessionLink {
        SessionLink::new(id)
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
        let attached = outbox.attach(link(1), SessionScope::Whole).unwrap();
        assert_eq!((attached.backlog, attached.backlog_last_id), (3, 3));
        let first = outbox.take(1, 2).unwrap();
        assert_eq!(ids(&first), vec![1, 2]);
        outbox.ack(1);
        outbox.push(inbound(3));
        outbox.detach(1);
        assert_eq!(
            outbox.attach(link(2), SessionScope::Whole).unwrap().backlog,
            3
        );
        assert_eq!(ids(&outbox.take(2, 10).unwrap()), vec![2, 3, 4]);
    }

    #[test]
    fn a_notice_reaches_every_session_after_its_pushes_and_is_not_stored() {
        let mut outbox = Outbox::default();
        let notice = Push::SendingResumed {
            reason: wa_netproto::ResumeReason::Lifted,
        };
        // Nobody attached: nobody hears it, and nothing waits for a later session.
        outbox.notice(&notice);
        let shard = |index| SessionScope::Shard {
            index,
            count: 2,
            epoch: 1,
        };
        outbox.attach(link(1), shard(0)).unwrap();
        outbox.attach(link(2), shard(1)).unwrap();
        assert!(outbox.take(1, 10).unwrap().is_empty());
        outbox.push(inbound(0));
        outbox.notice(&notice);
        outbox.notice(&notice);
        let first: Vec<Push> = outbox
            .take(1, 10)
            .unwrap()
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        let second: Vec<Push> = outbox
            .take(2, 10)
            .unwrap()
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        let both = [first, second].concat();
        assert_eq!(both.iter().filter(|p| **p == notice).count(), 2, "{both:?}");
        assert_eq!(both.len(), 3, "{both:?}");
        assert_eq!(
            outbox.take_dirty().len(),
            1,
            "only the inbound push is stored"
        );
    }

    #[test]
    fn a_replaced_session_can_take_nothing_more() {
        let mut outbox = Outbox::default();
        outbox.attach(link(1), SessionScope::Whole).unwrap();
        let replaced = outbox
            .attach(link(2), SessionScope::Whole)
            .unwrap()
            .replaced;
        assert_eq!(replaced.iter().map(|s| s.id).collect::<Vec<_>>(), [1]);
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
        outbox.attach(link(1), SessionScope::Whole).unwrap();
        let batch = outbox.take(1, 10).unwrap();
        outbox.attach(link(2), SessionScope::Whole).unwrap();
        outbox.ack(batch[0].0);
        assert_eq!(outbox.take(2, 10).unwrap().len(), 0);
    }
}
