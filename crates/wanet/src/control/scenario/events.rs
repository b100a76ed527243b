//! A scenario's business-bound entries (limits, terms) and its timed events, and how each is
//! played: through the control API's own checks (actions.rs).

use crate::base::errors::ControlError;
use crate::control::actions::{self, LatencyRule, NewConsumer, PrefixRule};
use crate::network::Network;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LimitsSetup {
    /// Left out: the only registered business.
    pub business: Option<String>,
    /// `tier` and `upgraded`, as `POST /control/businesses/{wa_id}/limits` takes them.
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TermsSetup {
    /// Left out: the only registered business.
    pub business: Option<String>,
    pub accepted: bool,
}

/// Something that happens `at_ms` after the scenario is loaded, in network time (scaled by
/// `time_scale` like every other period of the network).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Event {
    pub at_ms: u64,
    #[serde(flatten)]
    pub action: Action,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// A consumer writes to a business: `message` is the inbound message (`type` plus its object,
    /// optionally `to`), as `POST /control/consumers/{wa_id}/messages` takes it.
    Message {
        from: String,
        message: Map<String, Value>,
    },
    /// Every business connection drops and new ones are refused for `seconds`.
    Outage {
        seconds: f64,
    },
    /// A consumer changes: a phone going `offline`, and coming back with `normal`.
    Consumer(NewConsumer),
    /// A prefix or region rule changes.
    Profile(PrefixRule),
    Latency(LatencyRule),
    Terms(TermsSetup),
    Limits(LimitsSetup),
}

/// Plays the events in time order; one that the network refuses is logged and the rest go on.
pub async fn play(network: Arc<Network>, name: Option<String>, mut events: Vec<Event>) {
    events.sort_by_key(|e| e.at_ms);
    let start = tokio::time::Instant::now();
    let name = name.unwrap_or_default();
    for event in events {
        let at = network.rules().scaled(Duration::from_millis(event.at_ms));
        tokio::time::sleep_until(start + at).await;
        match apply(&network, event.action) {
            Ok(()) => tracing::info!(scenario = %name, at_ms = event.at_ms, "scenario event"),
            Err(e) => {
                tracing::warn!(scenario = %name, at_ms = event.at_ms, "scenario event refused: {e}")
            }
        }
    }
}

fn apply(network: &Arc<Network>, action: Action) -> Result<(), ControlError> {
    match action {
        Action::Message { from, message } => {
            actions::consumer_message(network, &from, message).map(drop)
        }
        Action::Outage { seconds } => actions::start_outage(network, seconds).map(drop),
        Action::Consumer(consumer) => actions::upsert_consumer(network, consumer).map(drop),
        Action::Profile(rule) => actions::set_prefix_rule(network, rule).map(drop),
        Action::Latency(rule) => actions::set_latency_rule(network, rule).map(drop),
        Action::Terms(terms) => set_terms(network, &terms),
        Action::Limits(limits) => set_limits(network, &limits),
    }
}

pub fn set_limits(network: &Network, limits: &LimitsSetup) -> Result<(), ControlError> {
    let business = actions::business_or_only(network, limits.business.as_deref())?;
    actions::set_limits(network, &business, &limits.fields).map(drop)
}

pub fn set_terms(network: &Network, terms: &TermsSetup) -> Result<(), ControlError> {
    let business = actions::business_or_only(network, terms.business.as_deref())?;
    network.set_terms(&business, terms.accepted).map(drop)
}
