//! The control API's changes to the network, each checked the same way whether it arrives as an
//! HTTP request or as a step of a scenario (scenario.rs): the handlers and the scenario runner
//! both call these, so a scenario can do nothing the API would refuse.

use crate::base::errors::ControlError;
use crate::base::phone;
use crate::model::directory::{ConsumerView, Profile};
use crate::network::Network;
use crate::realism::latency::DelayRange;
use crate::realism::limits::{LimitsChange, LimitsView};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;

/// The longest delay a latency rule may set: ten minutes.
pub const MAX_DELAY_MS: u64 = 600_000;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewConsumer {
    pub wa_id: String,
    pub name: Option<String>,
    pub profile: Option<Profile>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PrefixRule {
    pub prefix: String,
    pub profile: Profile,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyRule {
    pub prefix: String,
    pub min_ms: u64,
    pub max_ms: u64,
}

pub fn valid_wa_id(input: &str) -> Result<String, ControlError> {
    phone::wa_id(input).ok_or_else(|| {
        ControlError::BadRequest(format!("'{input}' is not a valid wa_id (7 to 15 digits)"))
    })
}

/// The wa_id of a registered business.
pub fn registered_business(network: &Network, input: &str) -> Result<String, ControlError> {
    let wa_id = phone::wa_id(input).unwrap_or_else(|| input.to_string());
    match network.business_view(&wa_id) {
        Some(_) => Ok(wa_id),
        None => Err(ControlError::NotFound(format!(
            "no business is registered as '{wa_id}'"
        ))),
    }
}

/// The business `named`, or the only registered one when no name is given (a scenario file can
/// then serve whatever number the installation registered).
pub fn business_or_only(network: &Network, named: Option<&str>) -> Result<String, ControlError> {
    if let Some(named) = named {
        return registered_business(network, named);
    }
    let world = network.world();
    let mut all = world.businesses.keys();
    match (all.next(), all.next()) {
        (Some(only), None) => Ok(only.clone()),
        (None, _) => Err(ControlError::NotFound(
            "no business is registered yet".into(),
        )),
        _ => Err(ControlError::BadRequest(
            "several businesses are registered: say which one in 'business'".into(),
        )),
    }
}

/// Creates or changes a consumer; a phone that is no longer off gets what was kept for it.
pub fn upsert_consumer(
    network: &Arc<Network>,
    input: NewConsumer,
) -> Result<ConsumerView, ControlError> {
    let wa_id = valid_wa_id(&input.wa_id)?;
    let view = network.upsert_consumer(&wa_id, input.name, input.profile);
    network.release_returned();
    Ok(view)
}

/// A consumer's message to a business: `message` is the inbound message itself (`type` plus its
/// object), with an optional `to` and an optional `referral`. Returns the message id.
pub fn consumer_message(
    network: &Network,
    from: &str,
    mut message: Map<String, Value>,
) -> Result<Option<String>, ControlError> {
    let to = match message.remove("to") {
        None | Some(Value::Null) => None,
        Some(Value::String(to)) => Some(to),
        Some(_) => return Err(ControlError::BadRequest("to must be a string".into())),
    };
    if !message.get("type").is_some_and(Value::is_string) {
        return Err(ControlError::BadRequest(
            "type is required (text, image, location, ...)".into(),
        ));
    }
    crate::model::media::attach_consumer_media(&network.media, &mut message)
        .map_err(ControlError::BadRequest)?;
    crate::model::media::attach_referral_media(&network.media, &mut message)
        .map_err(ControlError::BadRequest)?;
    let message = Value::Object(message);
    let ids = network.consumer_sends(from, to.as_deref(), 1, |_| message.clone())?;
    Ok(ids.into_iter().next())
}

/// Sets a business number's tier (`null` or `"unlimited"`: none), whether it is upgraded, the
/// business account it belongs to (`null`: its own), and lifts its account's throttling.
pub fn set_limits(
    network: &Network,
    business: &str,
    body: &Map<String, Value>,
) -> Result<LimitsView, ControlError> {
    let wa_id = registered_business(network, business)?;
    let change = limits_change(body).map_err(|e| ControlError::BadRequest(e.into()))?;
    Ok(network.set_limits(&wa_id, change))
}

fn limits_change(body: &Map<String, Value>) -> Result<LimitsChange, &'static str> {
    let tier = match body.get("tier") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) if s == "unlimited" => Some(None),
        Some(v) => match v.as_u64().filter(|n| *n >= 1) {
            Some(n) => Some(Some(usize::try_from(n).unwrap_or(usize::MAX))),
            None => return Err("tier must be a positive number, null or \"unlimited\""),
        },
    };
    let flag = |key: &str, error| match body.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(error),
    };
    let account = match body.get("account") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) if (1..=128).contains(&s.chars().count()) => Some(Some(s.clone())),
        Some(_) => return Err("account must be a string of 1 to 128 characters or null"),
    };
    Ok(LimitsChange {
        tier,
        upgraded: flag("upgraded", "upgraded must be a boolean")?,
        account,
        lift_throttling: flag("lift_throttling", "lift_throttling must be a boolean")?
            .unwrap_or(false),
    })
}

/// Gives a number range a profile; phones of the range that are back get what was kept.
pub fn set_prefix_rule(network: &Arc<Network>, rule: PrefixRule) -> Result<String, ControlError> {
    let prefix = checked_prefix(&rule.prefix)?;
    network
        .world()
        .prefix_rules
        .set(prefix.clone(), rule.profile);
    network.release_returned();
    Ok(prefix)
}

/// Sets the `delivered` delay of a number range.
pub fn set_latency_rule(network: &Network, rule: LatencyRule) -> Result<String, ControlError> {
    let prefix = checked_prefix(&rule.prefix)?;
    if rule.min_ms > rule.max_ms || rule.max_ms > MAX_DELAY_MS {
        return Err(ControlError::BadRequest(format!(
            "min_ms must not exceed max_ms, nor max_ms {MAX_DELAY_MS}"
        )));
    }
    let range = DelayRange {
        min_ms: rule.min_ms,
        max_ms: rule.max_ms,
    };
    network.world().latency_rules.set(prefix.clone(), range);
    Ok(prefix)
}

/// Starts a forced outage of `seconds`; returns how many sessions it dropped.
pub fn start_outage(network: &Network, seconds: f64) -> Result<usize, ControlError> {
    let max = crate::network::outage::MAX_OUTAGE.as_secs_f64();
    if !(seconds > 0.0 && seconds <= max) {
        return Err(ControlError::BadRequest(format!(
            "seconds must be more than 0 and at most {max}"
        )));
    }
    Ok(network.start_outage(std::time::Duration::from_secs_f64(seconds)))
}

fn checked_prefix(prefix: &str) -> Result<String, ControlError> {
    let prefix = prefix.trim_start_matches('+').to_string();
    if prefix.is_empty() || prefix.len() > 15 || !prefix.chars().all(|c| c.is_ascii_digit()) {
        return Err(ControlError::BadRequest(
            "prefix must be 1 to 15 digits".into(),
        ));
    }
    Ok(prefix)
}
