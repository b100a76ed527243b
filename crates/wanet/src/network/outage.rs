//! A forced network "upgrade" outage: every business connection drops and new connections are
//! refused until it ends. Messages sent meanwhile wait on the clients; the network's own pushes
//! wait in the offline store.

use crate::network::Network;
use std::time::{Duration, Instant};

/// Longest outage the control API accepts (design.md §5: up to 5 minutes).
pub const MAX_OUTAGE: Duration = Duration::from_secs(300);

impl Network {
    /// Starts (or extends) an outage of `length` and closes every business session. Returns how
    /// many sessions were dropped.
    pub fn start_outage(&self, length: Duration) -> usize {
        let mut world = self.world();
        let until = Instant::now() + length.min(MAX_OUTAGE);
        world.outage_until = Some(world.outage_until.map_or(until, |u| u.max(until)));
        let mut dropped = 0;
        for business in world.businesses.values_mut() {
            for link in business.outbox.detach_any() {
                link.close.cancel();
                dropped += 1;
            }
        }
        tracing::warn!("outage for {length:?}: {dropped} business sessions dropped");
        dropped
    }

    /// Time left of the current outage, if one is going on.
    pub fn outage_remaining(&self) -> Option<Duration> {
        self.world()
            .outage_until
            .map(|until| until.saturating_duration_since(Instant::now()))
            .filter(|left| !left.is_zero())
    }
}
