//! Reading the webhook bodies a [`crate::Receiver`] got: the statuses of one message.
//!
//! Webhooks are posted concurrently, so the order in which bodies arrive is not the order of the
//! statuses they carry; what a test can rely on is which statuses came.

use serde_json::Value;
use std::collections::HashSet;

/// The status objects of message `id`, in the order the receiver got them.
pub fn statuses<'a>(bodies: &'a [Value], id: &str) -> Vec<&'a Value> {
    bodies
        .iter()
        .filter_map(|b| b["statuses"].as_array())
        .flatten()
        .filter(|s| s["id"] == id)
        .collect()
}

/// Each status of message `id` with the code of its first error, sorted.
pub fn status_codes(bodies: &[Value], id: &str) -> Vec<(String, Option<i64>)> {
    let mut found: Vec<(String, Option<i64>)> = statuses(bodies, id)
        .into_iter()
        .map(|s| {
            let status = s["status"].as_str().unwrap_or_default().to_string();
            (status, s["errors"][0]["code"].as_i64())
        })
        .collect();
    found.sort();
    found
}

/// The `status` webhooks (e.g. every `warning`) of message `id`, in the order the receiver got them.
pub fn with_status<'a>(bodies: &'a [Value], id: &str, status: &str) -> Vec<&'a Value> {
    statuses(bodies, id)
        .into_iter()
        .filter(|s| s["status"] == status)
        .collect()
}

/// Whether a `status` webhook of message `id` came.
pub fn has_status(bodies: &[Value], id: &str, status: &str) -> bool {
    !with_status(bodies, id, status).is_empty()
}

/// The `timestamp` (epoch seconds) of the first `status` webhook of message `id`; panics when
/// there is none.
pub fn status_time(bodies: &[Value], id: &str, status: &str) -> i64 {
    statuses(bodies, id)
        .into_iter()
        .find(|s| s["status"] == status)
        .and_then(|s| match &s["timestamp"] {
            Value::String(t) => t.parse().ok(),
            other => other.as_i64(),
        })
        .unwrap_or_else(|| panic!("no {status} timestamp for {id}"))
}

/// The ids of the inbound messages the receiver got.
pub fn inbound_ids(bodies: &[Value]) -> HashSet<String> {
    bodies
        .iter()
        .filter_map(|b| b["messages"].as_array())
        .flatten()
        .filter_map(|m| m["id"].as_str().map(str::to_string))
        .collect()
}

/// The `value` of each change of each Cloud webhook body (`entry[].changes[].value`): what the
/// On-Prem helpers above read (`statuses`, `messages`) sits there in Cloud's envelope.
pub fn cloud_values(bodies: &[Value]) -> Vec<Value> {
    bodies
        .iter()
        .filter_map(|b| b["entry"].as_array())
        .flatten()
        .filter_map(|entry| entry["changes"].as_array())
        .flatten()
        .map(|change| change["value"].clone())
        .collect()
}
