//! The limits as the network applies them to each send and as the control API sets them.

use crate::base::phone;
use crate::network::{Network, World};
use crate::realism::limits::{LimitsChange, LimitsView, SendCheck};
use crate::realism::marketing;
use crate::realism::throttle::Ended;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use wa_netproto::{NetError, Push, ResumeReason};

/// The throttle watch's longest sleep when no throttle is due to end (a new one wakes it).
const IDLE_WATCH: Duration = Duration::from_secs(3_600);

impl Network {
    /// Whether business `business` may send message `id` now. Duplicates of an accepted id
    /// always pass (they are answered from the dedupe table and cost nothing).
    pub fn admit_send(
        &self,
        business: &str,
        id: &str,
        to: &str,
        message: &serde_json::Value,
    ) -> Result<(), NetError> {
        let rules = self.rules();
        let mut world = self.world();
        let world = &mut *world;
        let Some(b) = world.businesses.get(business) else {
            return Ok(());
        };
        if b.sent.contains(id) {
            return Ok(());
        }
        let recipient = phone::wa_id(to).unwrap_or_else(|| to.to_string());
        let window_open = world
            .windows
            .get(&(business.to_string(), recipient.clone()))
            .is_some_and(|opened| opened.elapsed() < rules.window);
        let message_type = message
            .get("type")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("text");
        // Free-form messages outside the window fail with 470 and reach nobody.
        let business_initiated = !window_open && matches!(message_type, "template" | "hsm");
        let send = SendCheck {
            recipient: &recipient,
            business_initiated,
            marketing: business_initiated && marketing::is_marketing(&b.templates, message),
            message_type,
        };
        let admitted = world
            .limits
            .admit(business, &rules, &send, Instant::now(), &mut world.rng);
        if admitted.as_ref().is_err_and(|e| e.code == 429) {
            // Possibly a new throttle: the watch must know when it ends.
            self.throttle_watch.notify_one();
        }
        admitted
    }

    /// Changes a number's limits (see [`LimitsChange`]).
    pub fn set_limits(&self, business: &str, change: LimitsChange) -> LimitsView {
        let preset = self.rules().rate_limits;
        let mut world = self.world();
        let limits = &mut world.limits;
        let number = limits.number(business, preset);
        if let Some(tier) = change.tier {
            number.tier = tier;
        }
        if let Some(upgraded) = change.upgraded {
            number.upgraded = upgraded;
        }
        if let Some(account) = change.account {
            number.account = account;
        }
        if change.lift_throttling {
            let account = limits.account_of(business);
            if let Some(lifted) = limits.throttles.lift(&account, Instant::now()) {
                tracing::info!(account, "throttling lifted");
                announce_resumed(&mut world, &[lifted], ResumeReason::Lifted);
            }
        }
        world.limits.view(business, preset, Instant::now())
    }

    /// Tells the numbers of every throttle that has just run its length; returns when the next
    /// one ends.
    fn announce_ended_throttles(&self) -> Option<Instant> {
        let mut world = self.world();
        let ended = world.limits.throttles.take_ended(Instant::now());
        if !ended.is_empty() {
            announce_resumed(&mut world, &ended, ResumeReason::Ended);
        }
        world.limits.throttles.next_end()
    }

    pub fn limits_view(&self, business: &str) -> LimitsView {
        let preset = self.rules().rate_limits;
        self.world().limits.view(business, preset, Instant::now())
    }
}

/// Sends `SendingResumed` to the sessions of every number the throttles stopped, so a coreapp
/// waiting out a long pause (it asks again at most every hour) sends at once.
fn announce_resumed(world: &mut World, throttles: &[Ended], reason: ResumeReason) {
    let push = Push::SendingResumed { reason };
    for throttle in throttles {
        for number in world.limits.numbers_stopped(throttle) {
            if let Some(business) = world.businesses.get_mut(&number) {
                tracing::debug!(business = %number, ?reason, "sending resumed");
                business.outbox.notice(&push);
            }
        }
    }
}

/// Announces the end of each throttle when its length has run, until `stop`: sleeps until the
/// next end, or until a refused send says a new throttle may have started.
pub async fn watch_throttles(network: Arc<Network>, stop: CancellationToken) {
    loop {
        let next = network.announce_ended_throttles();
        let wait = next.map_or(IDLE_WATCH, |at| {
            at.saturating_duration_since(Instant::now())
        });
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
            () = network.throttle_watch.notified() => {}
        }
    }
}
