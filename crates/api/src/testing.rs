//! Test support shared by the crates that check request validation (the coreapp's validator tests
//! and the end-to-end tests): a valid message of every kind, and walking and replacing the string
//! fields of a JSON request. Built only with the `testing` feature, which only dev-dependencies
//! enable, so none of it ships in a binary.

use serde_json::{json, Value};

/// A valid `POST /v1/messages` body of each kind sent to `to`, with every string field the API
/// documents filled in.
pub fn message_samples(to: &str) -> Vec<Value> {
    vec![
        json!({"to": to, "type": "text", "text": {"body": "hi"}, "preview_url": false,
               "recipient_type": "individual", "context": {"message_id": "gBGGFlA5FpafAgo6tHcNmNjXmuSf"}}),
        json!({"to": to, "type": "location", "location": {"longitude": 1.0, "latitude": 2.0,
               "name": "HQ", "address": "1 Main St"}}),
        json!({"to": to, "type": "contacts", "contacts": [{
            "name": {"formatted_name": "K F", "first_name": "K", "last_name": "F"},
            "birthday": "2000-01-02",
            "addresses": [{"street": "1 Main", "city": "X", "type": "HOME"}],
            "emails": [{"email": "k@example.com", "type": "WORK"}],
            "org": {"company": "Acme", "title": "CEO"},
            "phones": [{"phone": "+1 631 555 0100", "type": "CELL"}],
            "urls": [{"url": "https://example.com", "type": "WORK"}]}]}),
        json!({"to": to, "type": "image", "image": {"link": "https://example.com/a.jpg", "caption": "c"}}),
        json!({"to": to, "type": "document", "document": {"id": "f1e2d3c4-0000-4000-8000-000000000000",
               "caption": "c", "filename": "a.pdf"}}),
        json!({"to": to, "type": "reaction", "reaction": {"message_id": "gBGGFlA5FpafAgo6tHcNmNjXmuSf", "emoji": "👍"}}),
        json!({"to": to, "type": "interactive", "interactive": {"type": "button",
               "header": {"type": "text", "text": "h"}, "body": {"text": "b"}, "footer": {"text": "f"},
               "action": {"buttons": [{"type": "reply", "reply": {"id": "i", "title": "t"}}]}}}),
        json!({"to": to, "type": "interactive", "interactive": {"type": "list", "body": {"text": "b"},
               "action": {"button": "pick", "sections": [{"title": "s",
               "rows": [{"id": "r", "title": "t", "description": "d"}]}]}}}),
        json!({"to": to, "type": "template", "ttl": "P1D", "template": {"namespace": "ns", "name": "n",
               "language": {"policy": "deterministic", "code": "en"},
               "components": [{"type": "body", "parameters": [{"type": "text", "text": "x"}]}]}}),
    ]
}

/// The path (object keys and array indexes) of every string leaf of `value`.
pub fn string_paths(value: &Value) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    collect_string_paths(value, &mut Vec::new(), &mut out);
    out
}

fn collect_string_paths(value: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::String(_) => out.push(at.clone()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                at.push(i.to_string());
                collect_string_paths(item, at, out);
                at.pop();
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                at.push(key.clone());
                collect_string_paths(item, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// A copy of `value` with the leaf at `path` (as [`string_paths`] gives it) set to `with`.
/// Test support: a path that does not exist in `value` panics.
pub fn replaced(value: &Value, path: &[String], with: Value) -> Value {
    let mut copy = value.clone();
    let mut slot = &mut copy;
    for step in path {
        let index = match &*slot {
            Value::Array(_) => Some(step.parse::<usize>().expect("an array index")),
            _ => None,
        };
        slot = match index {
            Some(index) => &mut slot[index],
            None => &mut slot[step.as_str()],
        };
    }
    *slot = with;
    copy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_leaf_is_found_and_replaced() {
        let value = json!({"a": "x", "b": [1, "y", {"c": "z"}], "d": 2});
        let paths = string_paths(&value);
        assert_eq!(paths.len(), 3, "{paths:?}");
        let changed = replaced(&value, &paths[2], json!("new"));
        assert_eq!(changed["b"][2]["c"], "new");
        assert_eq!(changed["a"], "x");
    }
}
