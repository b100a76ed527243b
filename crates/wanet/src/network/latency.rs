//! When the network answers a send and when the phone reports it, drawn under the network's
//! lock so the seeded RNG is used in send order.

use crate::config::LatencyPreset;
use crate::network::{Network, World};
use crate::realism::latency::{realistic_range, realistic_read, DelayRange, Timing, ACCEPT_MS};
use std::time::Duration;

impl Network {
    /// How long the network takes to answer a send.
    pub(crate) fn answer_delay(&self, world: &mut World) -> Duration {
        match self.rules().latency {
            LatencyPreset::Realistic => DelayRange::of(ACCEPT_MS).draw(&mut world.rng),
            LatencyPreset::Fixed | LatencyPreset::Instant => Duration::ZERO,
        }
    }

    /// The timing of a message from `business` to `recipient` after the network's answer
    /// (`answer` is left zero: the caller adds it for a new send).
    pub(crate) fn timing(&self, world: &mut World, business: &str, recipient: &str) -> Timing {
        let rules = self.rules();
        let rule = world.latency_rules.lookup(recipient);
        match rules.latency {
            LatencyPreset::Instant => Timing::default(),
            LatencyPreset::Fixed => Timing {
                answer: Duration::ZERO,
                delivered: rule.map_or(rules.delivery_latency, |r| r.draw(&mut world.rng)),
                read: rules.read_latency,
            },
            LatencyPreset::Realistic => Timing {
                answer: Duration::ZERO,
                delivered: rule
                    .unwrap_or_else(|| realistic_range(business, recipient))
                    .draw(&mut world.rng),
                read: realistic_read(&rules),
            },
        }
    }
}
