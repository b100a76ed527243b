//! Multiconnect on the network side: the sessions of one business, one per shard.
//!
//! A session says in its `Hello` what it carries (`SessionScope`): the whole number, or shard
//! `index` of `count` under a lease `epoch`. Per shard the newest epoch wins: a session for a
//! shard replaces the one holding it under an equal or older epoch (an equal epoch is the same
//! holder reconnecting, or a new holder named under the same lease), and is refused with 1018
//! while a newer epoch holds it. A session for another shard count replaces the sessions of the
//! old count unless one of them is newer (a re-shard). A whole-number session carries everything
//! and replaces every other session, as a single coreapp always did.
//!
//! Pushes go to the session whose shard holds their consumer; with none, they wait in the
//! offline store (outbox.rs) until it connects.

use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use wa_api::cluster::shard_of;
use wa_netproto::{NetError, Push, SessionScope, STALE_SHARD_EPOCH};

/// The session a business is connected through.
#[derive(Clone, Debug)]
pub struct SessionLink {
    pub id: u64,
    /// Woken when a push is queued, so the session's writer takes it.
    pub wake: Arc<Notify>,
    /// Cancelled to close the session (replaced by a newer one, credentials revoked).
    pub close: CancellationToken,
}

#[cfg(test)]
impl SessionLink {
    /// A link with signals of its own, for the routing tests (a real session shares its own).
    pub(crate) fn new(id: u64) -> SessionLink {
        SessionLink {
            id,
            wake: Arc::new(Notify::new()),
            close: CancellationToken::new(),
        }
    }
}

/// One attached session and what it carries.
struct Attachment {
    link: SessionLink,
    scope: SessionScope,
    /// Messages of this session the network accepted (re-sends of known ids not counted).
    sends: u64,
    /// Sends refused because the recipient is in another shard.
    refused_sends: u64,
    /// When it attached and when the network last accepted a send of it (wall-clock ms).
    attached_ms: i64,
    last_send_ms: Option<i64>,
    /// Notices for this session alone (see [`Sessions::notice_all`]), not yet taken.
    notices: Vec<Push>,
}

/// Most notices waiting for one session: they are about the moment (a throttle ended), so a
/// session that does not take them loses the oldest rather than growing.
const NOTICES_KEPT: usize = 16;

/// How many ended sessions a business remembers for the control API.
const ENDED_KEPT: usize = 32;

/// Why a session stopped carrying the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The coreapp closed it, or its connection dropped.
    Closed,
    /// A session with a newer or equal epoch (or another shard count) took its place.
    Replaced,
    /// The network dropped every session of the number (credentials revoked, outage).
    Dropped,
}

/// The attached sessions of a business, and the last ones that ended.
#[derive(Default)]
pub struct Sessions {
    attached: Vec<Attachment>,
    ended: VecDeque<EndedSessionView>,
}

/// A session as `GET /control/businesses/{wa_id}/shards` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ShardSessionView {
    pub session: u64,
    /// `whole` or `shard`.
    pub kind: &'static str,
    pub shard_index: u32,
    pub shard_count: u32,
    /// Absent for a whole-number session, which has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epoch: Option<i64>,
    pub accepted_sends: u64,
    pub refused_sends: u64,
    /// Wall-clock milliseconds: when the session attached, and when the network last accepted
    /// one of its sends (absent before the first).
    pub attached_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_send_ms: Option<i64>,
}

/// A session that no longer carries the number: what it was, when and why it ended. Tests
/// use it to tell a coreapp that stopped by itself (fencing) from one the network replaced.
#[derive(Debug, Clone, Serialize)]
pub struct EndedSessionView {
    #[serde(flatten)]
    pub session: ShardSessionView,
    pub ended_ms: i64,
    pub reason: EndReason,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Whether a session of `scope` carries the traffic of `consumer`.
pub fn covers(scope: &SessionScope, consumer: &str) -> bool {
    match *scope {
        SessionScope::Whole => true,
        SessionScope::Shard { index, count, .. } => shard_of(consumer, count) == index,
    }
}

/// The consumer a stored push is about; it decides the shard that carries it.
pub fn consumer_of(push: &Push) -> &str {
    match push {
        Push::Inbound { from, .. } => from,
        Push::Receipt { recipient, .. } => recipient,
        // Never stored: the marker is each session's own, notices go to every session.
        Push::BacklogDone | Push::SendingResumed { .. } => "",
        // About no consumer: one fixed shard carries it, so a cluster queues it once.
        Push::TemplateStatus { .. } => "",
    }
}

fn stale(held: i64, offered: i64) -> NetError {
    NetError::new(STALE_SHARD_EPOCH, "Not a primary coreapp").with_details(format!(
        "this shard is held under epoch {held}, newer than epoch {offered}"
    ))
}

impl Sessions {
    /// Attaches `link` for `scope`; returns the sessions it replaces (detached here, for the
    /// caller to close), or the 1018 refusal when a newer epoch holds what it asks for.
    pub fn attach(
        &mut self,
        link: SessionLink,
        scope: SessionScope,
    ) -> Result<Vec<SessionLink>, NetError> {
        if let SessionScope::Shard {
            index,
            count,
            epoch,
        } = scope
        {
            let newer = self.attached.iter().find_map(|a| match a.scope {
                SessionScope::Shard {
                    index: i,
                    count: c,
                    epoch: e,
                } if e > epoch && (c != count || i == index) => Some(e),
                _ => None,
            });
            if let Some(held) = newer {
                return Err(stale(held, epoch));
            }
        }
        let (replaced, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.attached)
            .into_iter()
            .partition(|a| replaces(&scope, &a.scope));
        self.attached = kept;
        self.attached.push(Attachment {
            link,
            scope,
            sends: 0,
            refused_sends: 0,
            attached_ms: now_ms(),
            last_send_ms: None,
            notices: Vec::new(),
        });
        Ok(self.end_all(replaced, EndReason::Replaced))
    }

    /// Detaches session `id`; `None` when it is not attached (already replaced).
    pub fn detach(&mut self, id: u64) -> Option<SessionLink> {
        let at = self.attached.iter().position(|a| a.link.id == id)?;
        let ended = self.attached.remove(at);
        self.end_all(vec![ended], EndReason::Closed).pop()
    }

    /// Detaches every session (credentials revoked, outage).
    pub fn detach_all(&mut self) -> Vec<SessionLink> {
        let all = std::mem::take(&mut self.attached);
        self.end_all(all, EndReason::Dropped)
    }

    /// Remembers `ended` sessions (the last [`ENDED_KEPT`]) and returns their links.
    fn end_all(&mut self, ended: Vec<Attachment>, reason: EndReason) -> Vec<SessionLink> {
        let ended_ms = now_ms();
        for a in &ended {
            if self.ended.len() == ENDED_KEPT {
                self.ended.pop_front();
            }
            self.ended.push_back(EndedSessionView {
                session: view(a),
                ended_ms,
                reason,
            });
        }
        ended.into_iter().map(|a| a.link).collect()
    }

    pub fn scope_of(&self, id: u64) -> Option<SessionScope> {
        self.attached
            .iter()
            .find(|a| a.link.id == id)
            .map(|a| a.scope)
    }

    /// The session carrying `consumer`'s traffic, if it is connected.
    pub fn carrier(&self, consumer: &str) -> Option<&SessionLink> {
        self.attached
            .iter()
            .find(|a| covers(&a.scope, consumer))
            .map(|a| &a.link)
    }

    pub fn is_empty(&self) -> bool {
        self.attached.is_empty()
    }

    /// Gives `push` to every attached session and wakes them: something about the number as a
    /// whole and about now (a throttle ended), which each shard's coreapp must hear. It is not
    /// stored, so a session that attaches later does not get it. An equal notice still waiting
    /// is not repeated.
    pub fn notice_all(&mut self, push: &Push) {
        for a in &mut self.attached {
            if !a.notices.contains(push) {
                if a.notices.len() == NOTICES_KEPT {
                    a.notices.remove(0);
                }
                a.notices.push(push.clone());
            }
            a.link.wake.notify_one();
        }
    }

    /// The notices waiting for session `id`, now taken.
    pub fn take_notices(&mut self, id: u64) -> Vec<Push> {
        self.attached
            .iter_mut()
            .find(|a| a.link.id == id)
            .map(|a| std::mem::take(&mut a.notices))
            .unwrap_or_default()
    }

    /// Counts a send of session `id` as accepted or refused.
    pub(crate) fn count_send(&mut self, id: u64, accepted: bool) {
        if let Some(a) = self.attached.iter_mut().find(|a| a.link.id == id) {
            if accepted {
                a.sends += 1;
                a.last_send_ms = Some(now_ms());
            } else {
                a.refused_sends += 1;
            }
        }
    }

    pub fn views(&self) -> Vec<ShardSessionView> {
        let mut views: Vec<_> = self.attached.iter().map(view).collect();
        views.sort_by_key(|v| (v.shard_index, v.session));
        views
    }

    /// The last sessions that ended, oldest first.
    pub fn ended_views(&self) -> Vec<EndedSessionView> {
        self.ended.iter().cloned().collect()
    }
}

/// Whether a new session of scope `new` takes over from one of scope `old` (the epochs were
/// already compared).
fn replaces(new: &SessionScope, old: &SessionScope) -> bool {
    match (*new, *old) {
        (SessionScope::Whole, _) | (_, SessionScope::Whole) => true,
        (
            SessionScope::Shard { index, count, .. },
            SessionScope::Shard {
                index: i, count: c, ..
            },
        ) => c != count || i == index,
    }
}

fn view(a: &Attachment) -> ShardSessionView {
    let (kind, shard_index, shard_count, epoch) = match a.scope {
        SessionScope::Whole => ("whole", 0, 1, None),
        SessionScope::Shard {
            index,
            count,
            epoch,
        } => ("shard", index, count, Some(epoch)),
    };
    ShardSessionView {
        session: a.link.id,
        kind,
        shard_index,
        shard_count,
        epoch,
        accepted_sends: a.sends,
        refused_sends: a.refused_sends,
        attached_ms: a.attached_ms,
        last_send_ms: a.last_send_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(id: u64) -> SessionLink {
        SessionLink::new(id)
    }

    fn shard(index: u32, count: u32, epoch: i64) -> SessionScope {
        SessionScope::Shard {
            index,
            count,
            epoch,
        }
    }

    fn ids(links: Vec<SessionLink>) -> Vec<u64> {
        links.into_iter().map(|l| l.id).collect()
    }

    #[test]
    fn the_newest_epoch_of_a_shard_wins() {
        let mut sessions = Sessions::default();
        assert!(sessions.attach(link(1), shard(0, 2, 5)).unwrap().is_empty());
        assert!(sessions.attach(link(2), shard(1, 2, 5)).unwrap().is_empty());
        let refused = sessions.attach(link(3), shard(0, 2, 4)).unwrap_err();
        assert_eq!(refused.code, STALE_SHARD_EPOCH);
        assert_eq!(ids(sessions.attach(link(4), shard(0, 2, 6)).unwrap()), [1]);
        assert_eq!(sessions.scope_of(2), Some(shard(1, 2, 5)));
    }

    #[test]
    fn ended_sessions_say_whether_they_closed_or_were_replaced() {
        let mut sessions = Sessions::default();
        sessions.attach(link(1), shard(0, 2, 5)).unwrap();
        sessions.attach(link(2), shard(1, 2, 5)).unwrap();
        sessions.count_send(1, true);
        sessions.attach(link(3), shard(0, 2, 6)).unwrap();
        assert!(sessions.detach(2).is_some());
        assert!(sessions.detach(2).is_none());
        let ended: Vec<(u64, EndReason, u64)> = sessions
            .ended_views()
            .iter()
            .map(|e| (e.session.session, e.reason, e.session.accepted_sends))
            .collect();
        assert_eq!(
            ended,
            [(1, EndReason::Replaced, 1), (2, EndReason::Closed, 0)]
        );
        assert!(sessions.ended_views()[0].session.last_send_ms.is_some());
        sessions.detach_all();
        assert_eq!(sessions.ended_views()[2].reason, EndReason::Dropped);
        for id in 10..50 {
            sessions.attach(link(id), shard(0, 1, 7)).unwrap();
        }
        assert_eq!(sessions.ended_views().len(), ENDED_KEPT);
    }

    #[test]
    fn a_new_shard_count_replaces_the_old_layout() {
        let mut sessions = Sessions::default();
        sessions.attach(link(1), shard(0, 2, 5)).unwrap();
        sessions.attach(link(2), shard(1, 2, 5)).unwrap();
        assert_eq!(
            ids(sessions.attach(link(3), shard(3, 4, 5)).unwrap()),
            [1, 2]
        );
        assert!(sessions.attach(link(4), shard(0, 2, 4)).is_err());
    }

    #[test]
    fn a_whole_session_carries_everything_and_replaces_all() {
        let mut sessions = Sessions::default();
        sessions.attach(link(1), shard(0, 2, 5)).unwrap();
        let numbers: Vec<String> = (100..120).map(|n| format!("16315550{n}")).collect();
        let first = numbers.iter().find(|n| shard_of(n, 2) == 0).unwrap();
        let second = numbers.iter().find(|n| shard_of(n, 2) == 1).unwrap();
        assert!(sessions.carrier(first).is_some() != sessions.carrier(second).is_some());
        assert_eq!(
            ids(sessions.attach(link(2), SessionScope::Whole).unwrap()),
            [1]
        );
        assert_eq!(sessions.carrier("16315550100").map(|l| l.id), Some(2));
    }

    #[test]
    fn pushes_go_to_the_shard_of_their_consumer() {
        let mut sessions = Sessions::default();
        sessions.attach(link(10), shard(0, 2, 1)).unwrap();
        sessions.attach(link(11), shard(1, 2, 1)).unwrap();
        for consumer in ["16315550100", "16315550101", "447400123456"] {
            let expected = 10 + u64::from(shard_of(consumer, 2));
            assert_eq!(sessions.carrier(consumer).map(|l| l.id), Some(expected));
        }
    }
}
