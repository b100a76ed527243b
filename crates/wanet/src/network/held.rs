//! The offline store of the phones: a business's message to a phone that is off waits on the
//! network for 30 days of network time (scaled by `time_scale`) and is delivered when the phone
//! comes back, that is when the consumer's profile (or the prefix rule that gives it one) is no
//! longer `offline`. After 30 days it is dropped: its status stays `sent`, as on the real
//! network, where a message not delivered within 30 days never gets `delivered`.

use crate::base::clock;
use crate::model::directory::{Held, Profile};
use crate::network::messaging::Delivery;
use crate::network::{Network, World};
use std::sync::Arc;
use std::time::Duration;

/// How long the network keeps a message for a phone that is off.
pub const KEEP: Duration = Duration::from_secs(30 * 86_400);

impl Network {
    /// Keeps `d` for its phone, which was off when the delivery latency passed. True when the
    /// phone is back already (its profile changed meanwhile), so the caller releases it.
    pub(crate) fn hold(&self, d: Delivery) -> bool {
        let mut world = self.world();
        let held = Held {
            business: d.business,
            id: d.message_id,
            message: d.message,
            rendered: d.rendered,
            timestamp: d.timestamp,
            held_at_ms: clock::now_epoch_ms(),
        };
        tracing::info!(recipient = %d.recipient, id = %held.id, "phone offline: message held");
        let back = world.profile_of(&d.recipient) != Profile::Offline;
        world.consumer(&d.recipient).held.push(held);
        back
    }

    /// Delivers what waits for phones that are no longer off; their profile now decides what
    /// happens, as for a new message. Messages that waited too long are dropped first.
    pub fn release_returned(self: &Arc<Self>) {
        for delivery in self.take_returned() {
            tokio::spawn(crate::network::messaging::run_delivery(
                self.clone(),
                delivery,
            ));
        }
    }

    fn take_returned(&self) -> Vec<Delivery> {
        let oldest = self.oldest_kept_ms();
        let mut world = self.world();
        let returned: Vec<String> = world
            .consumers
            .values()
            .filter(|c| !c.held.is_empty())
            .map(|c| c.wa_id.clone())
            .filter(|wa_id| world.profile_of(wa_id) != Profile::Offline)
            .collect();
        let mut deliveries = Vec::new();
        for wa_id in returned {
            let consumer = world.consumer(&wa_id);
            consumer.expire_held(oldest);
            let held = std::mem::take(&mut consumer.held);
            tracing::info!(recipient = %wa_id, count = held.len(), "phone back: held messages released");
            for h in held {
                deliveries.push(self.released(&mut world, &wa_id, h));
            }
        }
        deliveries
    }

    fn released(&self, world: &mut World, recipient: &str, h: Held) -> Delivery {
        Delivery {
            outcome: self.phone_outcome(world, recipient),
            timing: self.timing(world, &h.business, recipient),
            business: h.business,
            message_id: h.id,
            recipient: recipient.to_string(),
            message: h.message,
            timestamp: h.timestamp,
            rendered: h.rendered,
        }
    }

    /// Held messages older than this (epoch ms) have waited their 30 days.
    pub(crate) fn oldest_kept_ms(&self) -> i64 {
        let keep = self.rules().scaled(KEEP);
        let keep_ms = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
        clock::now_epoch_ms().saturating_sub(keep_ms)
    }
}

/// The sweeper's part: drops what waited 30 days on every phone still off.
pub(crate) fn expire(world: &mut World, oldest_ms: i64) {
    let World {
        consumers, dirty, ..
    } = world;
    for consumer in consumers.values_mut().filter(|c| !c.held.is_empty()) {
        let dropped = consumer.expire_held(oldest_ms);
        if dropped > 0 {
            tracing::info!(recipient = %consumer.wa_id, dropped, "held messages expired after 30 days");
            dirty.insert((
                crate::base::durability::Kind::Consumer,
                consumer.wa_id.clone(),
            ));
        }
    }
}
