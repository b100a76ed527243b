//! The Prometheus text form of the JSON statistics model, by the original converter's rules.

use serde_json::{Map, Value};
use std::fmt::Write as _;

/// The Prometheus text form of a JSON statistics object (`stats.app`, `stats.db` or `metrics`),
/// by the original converter's rules (spec onprem-rest §9.2): statistics with empty `data` or
/// without `help`/`type` are skipped; each one gets `# HELP` and `# TYPE` lines; labels are
/// printed in the order received as `key="value"` joined by `,`; histogram samples (`bucket`,
/// `count`, `sum` instead of `value`) print `_bucket{le=...}`, `_sum` and `_count` lines.
pub fn prometheus_text(stats: &Map<String, Value>) -> String {
    let mut out = String::new();
    for (name, stat) in stats {
        let (Some(kind), Some(help), Some(data)) = (
            stat.get("type").and_then(Value::as_str),
            stat.get("help").and_then(Value::as_str),
            stat.get("data").and_then(Value::as_array),
        ) else {
            continue;
        };
        if data.is_empty() || !is_metric_name(name) {
            continue;
        }
        let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for sample in data {
            let labels = label_pairs(sample.get("labels"));
            if let Some(buckets) = sample.get("bucket").and_then(Value::as_object) {
                write_histogram(&mut out, name, &labels, buckets, sample);
            } else if let Some(value) = sample.get("value") {
                write_sample(&mut out, name, &labels, value);
            }
        }
    }
    out
}

fn write_histogram(
    out: &mut String,
    name: &str,
    labels: &[String],
    buckets: &Map<String, Value>,
    sample: &Value,
) {
    let bucket_name = format!("{name}_bucket");
    for (le, count) in buckets {
        let mut with_le = labels.to_vec();
        with_le.push(format!("le=\"{}\"", escape_label_value(le)));
        write_sample(out, &bucket_name, &with_le, count);
    }
    if let Some(count) = sample.get("count") {
        let mut with_le = labels.to_vec();
        with_le.push("le=\"+Inf\"".to_string());
        write_sample(out, &bucket_name, &with_le, count);
    }
    if let Some(sum) = sample.get("sum") {
        write_sample(out, &format!("{name}_sum"), labels, sum);
    }
    if let Some(count) = sample.get("count") {
        write_sample(out, &format!("{name}_count"), labels, count);
    }
}

fn write_sample(out: &mut String, name: &str, labels: &[String], value: &Value) {
    let Some(value) = format_value(value) else {
        return;
    };
    if labels.is_empty() {
        let _ = writeln!(out, "{name} {value}");
    } else {
        let _ = writeln!(out, "{name}{{{}}} {value}", labels.join(","));
    }
}

/// `key="value"` for each label with a valid name; values escaped as the format requires.
fn label_pairs(labels: Option<&Value>) -> Vec<String> {
    let Some(labels) = labels.and_then(Value::as_object) else {
        return Vec::new();
    };
    labels
        .iter()
        .filter(|(key, _)| is_label_name(key))
        .map(|(key, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{key}=\"{}\"", escape_label_value(&text))
        })
        .collect()
}

fn format_value(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_string()),
        Value::String(s) => s.parse::<f64>().ok().map(|v| {
            if v.is_nan() {
                "NaN".to_string()
            } else if v.is_infinite() {
                if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
            } else {
                v.to_string()
            }
        }),
        _ => None,
    }
}

fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label_value(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`: a name that would break the text format is left out rather than
/// printed.
pub(super) fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

pub(super) fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
