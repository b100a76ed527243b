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

use crate::network::Network;
use crate::outbox::SessionLink;
use serde::Serialize;
use wa_api::cluster::shard_of;
use wa_netproto::{NetError, Push, SessionScope, STALE_SHARD_EPOCH};

/// One attached session and what it carries.
struct Attachment {
    link: SessionLink,
    scope: SessionScope,
    /// Messages of this session the network accepted (re-sends of known ids not counted).
    sends: u64,
    /// Sends refused because the recipient is in another shard.
    refused_sends: u64,
}

/// The attached sessions of a business.
#[derive(Default)]
pub struct Sessions {
    attached: Vec<Attachment>,
}

/// A session as `GET /control/businesses/{wa_id}/shards` shows it.
#[derive(Debug, Serialize)]
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
        // Never stored; the first shard's session would carry it.
        Push::BacklogDone => "",
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
        });
        Ok(replaced.into_iter().map(|a| a.link).collect())
    }

    /// Detaches session `id`; `None` when it is not attached (already replaced).
    pub fn detach(&mut self, id: u64) -> Option<SessionLink> {
        let at = self.attached.iter().position(|a| a.link.id == id)?;
        Some(self.attached.remove(at).link)
    }

    /// Detaches every session (credentials revoked, outage).
    pub fn detach_all(&mut self) -> Vec<SessionLink> {
        std::mem::take(&mut self.attached)
            .into_iter()
            .map(|a| a.link)
            .collect()
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

    /// Counts a send of session `id` as accepted or refused.
    fn count_send(&mut self, id: u64, accepted: bool) {
        if let Some(a) = self.attached.iter_mut().find(|a| a.link.id == id) {
            if accepted {
                a.sends += 1;
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
    }
}

impl Network {
    /// Admits a send of session `session_id` to `to` only when that session still carries the
    /// recipient's shard: a replaced session, or one sending outside its shard, gets 1018 and
    /// the network never sees the message.
    pub fn admit_shard(&self, business: &str, session_id: u64, to: &str) -> Result<(), NetError> {
        let mut world = self.world();
        let Some(b) = world.businesses.get_mut(business) else {
            return Ok(());
        };
        let recipient = crate::phone::wa_id(to).unwrap_or_else(|| to.to_string());
        let sessions = b.outbox.sessions_mut();
        let allowed = match sessions.scope_of(session_id) {
            None => Err("this session no longer carries the number".to_string()),
            Some(scope) if covers(&scope, &recipient) => Ok(()),
            Some(_) => Err(format!("the recipient {recipient} is in another shard")),
        };
        if allowed.is_err() {
            sessions.count_send(session_id, false);
        }
        allowed.map_err(|why| {
            NetError::new(STALE_SHARD_EPOCH, "Not a primary coreapp").with_details(why)
        })
    }

    /// Counts a message session `session_id` sent that the network accepted for the first time
    /// (not a re-send of one it already has).
    pub fn count_shard_send(&self, business: &str, session_id: u64) {
        if let Some(b) = self.world().businesses.get_mut(business) {
            b.outbox.sessions_mut().count_send(session_id, true);
        }
    }

    /// The sessions of `business` by shard, for the control API; `None` for an unknown number.
    pub fn shard_sessions(&self, business: &str) -> Option<Vec<ShardSessionView>> {
        let mut world = self.world();
        let b = world.businesses.get_mut(business)?;
        Some(b.outbox.sessions_mut().views())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::sync::Notify;
    use tokio_util::sync::CancellationToken;

    fn link(id: u64) -> SessionLink {
        SessionLink {
            id,
            wake: Arc::new(Notify::new()),
            close: CancellationToken::new(),
        }
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
