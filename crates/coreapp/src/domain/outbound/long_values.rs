//! Every string field of every message type fed an over-long value: validation refuses it with a
//! 4xx On-Prem error, so the database never decides a length (issue: no 500 on bad input).

use super::validate;
use serde_json::Value;
use wa_api::testing::{message_samples, replaced, string_paths};

/// Longer than any limit of the API, shorter than what a body may carry.
const LONG: usize = 70_000;

#[test]
fn every_string_field_refuses_an_over_long_value() {
    let mut accepted = Vec::new();
    for sample in message_samples("16315550100") {
        let request = sample.as_object().unwrap();
        validate(request, None).unwrap_or_else(|e| panic!("sample refused: {e} {sample}"));
        for path in string_paths(&sample) {
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
