//! When the network answers a send and when the phone reports it, drawn under the network's
//! lock so the seeded RNG is used in send order.

use crate::config::LatencyPreset;
use crate::network::{Network, World};
use crate::realism::latency::{realistic_range, realistic_read, DelayRange, Timing, ACCEPT_MS};
use std::time::Duration;

impl Network {
    /// How long the network takes to answer a send.
    pub(crate) fn accept_delay(&self) -> Duration {
        match self.rules().latency {
            LatencyPreset::Realistic => DelayRange::of(ACCEPT_MS).draw(&mut self.world().rng),
            LatencyPreset::Fixed | LatencyPreset::Instant => Duration::ZERO,
        }
    }

    /// The timing of a message from `business` to `recipient`.
    pub(crate) fn timing(&self, world: &mut World, business: &str, recipient: &str) -> Timing {
        let rules = self.rules();
        let rule = world.latency_rules.lookup(recipient);
        match rules.latency {
            LatencyPreset::Instant => Timing::default(),
            LatencyPreset::Fixed => Timing {
                delivered: rule.map_or(rules.delivery_latency, |r| r.draw(&mut world.rng)),
                read: rules.read_latency,
            },
            LatencyPreset::Realistic => Timing {
                delivered: rule
                    .unwrap_or_else(|| realistic_range(business, recipient))
                    .draw(&mut world.rng),
                read: realistic_read(&rules),
            },
        }
    }
}
