//! The traffic generator for load tests: many consumers sending a business inbound messages of
//! the requested types, `volume` in all, one every `interval_ms` (all at once for 0).

use crate::base::errors::ControlError;
use crate::network::Network;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// Most messages one traffic request may generate.
pub const MAX_VOLUME: usize = 1_000_000;
/// Distinct consumers the generated messages come from (+1 650-555-0000 up, numbers the
/// numbering plan assigns, so the business can answer them).
const SENDERS: usize = 1_000;
const FIRST_SENDER: u64 = 16_505_550_000;
/// Longest pause between two generated messages.
const MAX_INTERVAL_MS: u64 = 60_000;
pub const TYPES: &[&str] = &[
    "text",
    "location",
    "contacts",
    "button",
    "interactive",
    "reaction",
];

#[derive(Deserialize)]
pub struct TrafficRequest {
    pub to: Option<String>,
    pub volume: usize,
    #[serde(default)]
    pub interval_ms: u64,
    #[serde(default)]
    pub types: Vec<String>,
}

/// Checks the request and starts generating in the background. Returns the types used.
pub fn start(network: Arc<Network>, request: TrafficRequest) -> Result<Vec<String>, ControlError> {
    if !(1..=MAX_VOLUME).contains(&request.volume) {
        return Err(ControlError::BadRequest(format!(
            "volume must be between 1 and {MAX_VOLUME}"
        )));
    }
    if request.interval_ms > MAX_INTERVAL_MS {
        return Err(ControlError::BadRequest(format!(
            "interval_ms must be at most {MAX_INTERVAL_MS}"
        )));
    }
    let types = if request.types.is_empty() {
        vec!["text".to_string()]
    } else {
        request.types
    };
    if let Some(unknown) = types.iter().find(|t| !TYPES.contains(&t.as_str())) {
        return Err(ControlError::BadRequest(format!(
            "type '{unknown}' cannot be generated; use {}",
            TYPES.join(", ")
        )));
    }
    // The first message is sent now, so a bad `to` is reported to the caller.
    network.consumer_sends(&sender(0), request.to.as_deref(), 1, |_| {
        message(&types[0], 0)
    })?;
    let volume = request.volume;
    let interval = Duration::from_millis(request.interval_ms);
    let generated_types = types.clone();
    tokio::spawn(async move {
        for n in 1..volume {
            if !interval.is_zero() {
                tokio::time::sleep(interval).await;
            }
            let kind = &types[n % types.len()];
            if let Err(e) =
                network.consumer_sends(&sender(n), request.to.as_deref(), 1, |_| message(kind, n))
            {
                tracing::warn!("traffic generator stopped after {n} messages: {e}");
                return;
            }
        }
    });
    Ok(generated_types)
}

fn sender(n: usize) -> String {
    (FIRST_SENDER + (n % SENDERS) as u64).to_string()
}

/// Inbound message number `n` of type `kind`, in the shape consumers' messages have.
fn message(kind: &str, n: usize) -> Value {
    match kind {
        "location" => json!({"type": "location", "location": {
            "latitude": 38.9 + (n % 100) as f64 / 1000.0, "longitude": -77.03,
            "name": "Generated place", "address": format!("{n} Main St")}}),
        "contacts" => json!({"type": "contacts", "contacts": [{
            "name": {"formatted_name": format!("Contact {n}"), "first_name": "Contact"},
            "phones": [{"phone": "+1 631 555 0100", "type": "CELL"}]}]}),
        "button" => {
            json!({"type": "button", "button": {"text": "Yes", "payload": format!("yes-{n}")}})
        }
        "interactive" => json!({"type": "interactive", "interactive": {
            "type": "button_reply", "button_reply": {"id": format!("b{n}"), "title": "Yes"}}}),
        "reaction" => {
            json!({"type": "reaction", "reaction": {"message_id": format!("gBGG{n}"), "emoji": "👍"}})
        }
        _ => json!({"type": "text", "text": {"body": format!("traffic {}", n + 1)}}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_its_object() {
        for kind in TYPES {
            let m = message(kind, 7);
            assert_eq!(m["type"], *kind);
            assert!(m.get(*kind).is_some(), "{m}");
        }
    }

    #[test]
    fn senders_cycle_through_a_thousand_numbers() {
        assert_eq!(sender(0), "16505550000");
        assert_eq!(sender(1_001), "16505550001");
    }
}
