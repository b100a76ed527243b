//! Every string field of every message type fed an over-long value: validation refuses it with a
//! 4xx On-Prem error, so the database never decides a length (issue: no 500 on bad input).

use super::validate;
use serde_json::{json, Value};

/// Longer than any limit of the API, shorter than what a body may carry.
const LONG: usize = 70_000;

/// A valid request of each kind, with every string field the API documents.
fn samples() -> Vec<Value> {
    let to = "16315550100";
    vec![
        json!({"to": to, "type": "text", "text": {"body": "hi"}, "preview_url": false,
               "context": {"message_id": "gBGGFlA5FpafAgo6tHcNmNjXmuSf"}}),
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
        json!({"to": to, "type": "template", "template": {"namespace": "ns", "name": "n",
               "language": {"policy": "deterministic", "code": "en"},
               "components": [{"type": "body", "parameters": [{"type": "text", "text": "x"}]}]}}),
    ]
}

/// Paths (keys and indexes) of every string leaf of `value`.
fn string_paths(value: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::String(_) => out.push(at.clone()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                at.push(i.to_string());
                string_paths(item, at, out);
                at.pop();
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                at.push(key.clone());
                string_paths(item, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn replaced(sample: &Value, path: &[String], with: Value) -> Value {
    let mut copy = sample.clone();
    let mut slot = &mut copy;
    for step in path {
        slot = match slot {
            Value::Array(items) => &mut items[step.parse::<usize>().unwrap()],
            other => &mut other[step.as_str()],
        };
    }
    *slot = with;
    copy
}

#[test]
fn every_string_field_refuses_an_over_long_value() {
    let mut accepted = Vec::new();
    for sample in samples() {
        let request = sample.as_object().unwrap();
        validate(request, None).unwrap_or_else(|e| panic!("sample refused: {e} {sample}"));
        let mut paths = Vec::new();
        string_paths(&sample, &mut Vec::new(), &mut paths);
        for path in paths {
            let long = replaced(&sample, &path, Value::String("x".repeat(LONG)));
            match validate(long.as_object().unwrap(), None) {
                Err(error) => assert!(error.status < 500, "{} {error}", path.join(".")),
                Ok(_) => accepted.push(format!("{}: {}", sample["type"], path.join("."))),
            }
        }
    }
    assert!(
        accepted.is_empty(),
        "over-long values accepted: {accepted:#?}"
    );
}
