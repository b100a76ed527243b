//! The shard sessions as sends see them: a send is admitted only from the session that carries
//! its recipient.

use crate::network::Network;
use crate::routing::shards::{covers, EndedSessionView, ShardSessionView};
use wa_netproto::{NetError, STALE_SHARD_EPOCH};

impl Network {
    /// Admits a send of session `session_id` to `to` only when that session still carries the
    /// recipient's shard: a replaced session, or one sending outside its shard, gets 1018 and
    /// the network never sees the message.
    pub fn admit_shard(&self, business: &str, session_id: u64, to: &str) -> Result<(), NetError> {
        let mut world = self.world();
        let Some(b) = world.businesses.get_mut(business) else {
            return Ok(());
        };
        let recipient = crate::base::phone::wa_id(to).unwrap_or_else(|| to.to_string());
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

    /// The sessions of `business` by shard and the last ones that ended, for the control API;
    /// `None` for an unknown number.
    pub fn shard_sessions(
        &self,
        business: &str,
    ) -> Option<(Vec<ShardSessionView>, Vec<EndedSessionView>)> {
        let mut world = self.world();
        let b = world.businesses.get_mut(business)?;
        let sessions = b.outbox.sessions_mut();
        Some((sessions.views(), sessions.ended_views()))
    }
}
