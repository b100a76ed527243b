//! Field access with the webapp's validation wording (spec onprem-messaging §1.3): every helper
//! answers with the code and `details` text the original used.

use serde_json::{Map, Value};
use wa_api::error::echoed;
use wa_api::{ApiError, ErrorCode};

pub type Object = Map<String, Value>;

/// How a value appears inside `details`: strings bare, everything else as JSON.
pub fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_absent(value: Option<&Value>) -> bool {
    value.is_none_or(Value::is_null)
}

/// 1008 `Parameter '<p>' is mandatory for <dep> '<v>'`.
pub fn mandatory_for(name: &str, dep: &str, value: &str) -> ApiError {
    ApiError::new(
        ErrorCode::RequiredParameterMissing,
        format!(
            "Parameter '{name}' is mandatory for {dep} '{}'",
            echoed(value)
        ),
    )
}

/// 1010 `Parameter '<p>' is not required for <dep> '<v>'`.
pub fn not_required_for(name: &str, dep: &str, value: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ParameterNotRequired,
        format!(
            "Parameter '{name}' is not required for {dep} '{}'",
            echoed(value)
        ),
    )
}

// The limits and their error live in one table: wa_api::limits.
pub use wa_api::limits::{bounded_strings, too_long, MESSAGE_ID_CHARS as MAX_MESSAGE_ID_CHARS};

/// Refuses each of `names` present in `object` with 1010.
pub fn reject(object: &Object, names: &[&str], dep: &str, value: &str) -> Result<(), ApiError> {
    match names.iter().find(|n| !is_absent(object.get(**n))) {
        Some(name) => Err(not_required_for(name, dep, value)),
        None => Ok(()),
    }
}

/// A mandatory string: 1008 when missing, 1009 when not a string.
pub fn required_str<'a>(object: &'a Object, name: &str) -> Result<&'a str, ApiError> {
    optional_str(object, name)?.ok_or_else(|| ApiError::missing_parameter(name))
}

/// An optional string: 1009 when present but not a string.
pub fn optional_str<'a>(object: &'a Object, name: &str) -> Result<Option<&'a str>, ApiError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ApiError::invalid_parameter(name, &display(other))),
    }
}

/// A string no longer than `max` characters.
pub fn limited_str<'a>(
    object: &'a Object,
    name: &str,
    max: usize,
) -> Result<Option<&'a str>, ApiError> {
    let value = optional_str(object, name)?;
    match value {
        Some(s) if s.chars().count() > max => Err(too_long(name, max)),
        _ => Ok(value),
    }
}

/// A mandatory, non-blank string of at most `max` characters.
pub fn required_limited<'a>(
    object: &'a Object,
    name: &str,
    max: usize,
) -> Result<&'a str, ApiError> {
    let value = limited_str(object, name, max)?.ok_or_else(|| ApiError::missing_parameter(name))?;
    if value.trim().is_empty() {
        return Err(ApiError::invalid_parameter(name, value));
    }
    Ok(value)
}

/// An optional object: 1009 when present but not an object.
pub fn optional_object<'a>(object: &'a Object, name: &str) -> Result<Option<&'a Object>, ApiError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(other) => Err(ApiError::invalid_parameter(name, &display(other))),
    }
}

pub fn required_object<'a>(object: &'a Object, name: &str) -> Result<&'a Object, ApiError> {
    optional_object(object, name)?.ok_or_else(|| ApiError::missing_parameter(name))
}

/// An optional array: 1009 when present but not an array.
pub fn optional_array<'a>(object: &'a Object, name: &str) -> Result<Option<&'a [Value]>, ApiError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(other) => Err(ApiError::invalid_parameter(name, &display(other))),
    }
}

pub fn required_array<'a>(object: &'a Object, name: &str) -> Result<&'a [Value], ApiError> {
    optional_array(object, name)?.ok_or_else(|| ApiError::missing_parameter(name))
}

/// An array element that must be an object.
pub fn element<'a>(value: &'a Value, name: &str) -> Result<&'a Object, ApiError> {
    value
        .as_object()
        .ok_or_else(|| ApiError::invalid_parameter(name, &display(value)))
}

/// Exactly one of `a` and `b` (the webapp's xor wording).
pub fn exactly_one(object: &Object, a: &str, b: &str) -> Result<(), ApiError> {
    match (is_absent(object.get(a)), is_absent(object.get(b))) {
        (true, true) => Err(ApiError::new(
            ErrorCode::RequiredParameterMissing,
            format!("Atleast one of the following parameters must be present: '{a}', '{b}'"),
        )),
        (false, false) => Err(ApiError::new(
            ErrorCode::ParameterNotRequired,
            format!("Exactly one of the following parameters must be present: '{a}', '{b}'"),
        )),
        _ => Ok(()),
    }
}

/// A number given as a JSON number or a numeric string (the collection quotes coordinates).
pub fn number(object: &Object, name: &str) -> Result<f64, ApiError> {
    match object.get(name) {
        None | Some(Value::Null) => Err(ApiError::missing_parameter(name)),
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| ApiError::invalid_parameter(name, &n.to_string())),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or_else(|| ApiError::invalid_parameter(name, s)),
        Some(other) => Err(ApiError::invalid_parameter(name, &display(other))),
    }
}

/// An http(s) URL with a host.
pub fn url(object: &Object, name: &str) -> Result<Option<String>, ApiError> {
    let Some(link) = optional_str(object, name)? else {
        return Ok(None);
    };
    let rest = link
        .strip_prefix("https://")
        .or_else(|| link.strip_prefix("http://"));
    let host_ok = rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !link.contains(char::is_whitespace)
    });
    if host_ok {
        Ok(Some(link.to_string()))
    } else {
        Err(ApiError::invalid_parameter(name, link))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn xor_wording() {
        let none = exactly_one(&obj(json!({})), "id", "link").unwrap_err();
        assert_eq!(none.first_code(), 1008);
        assert_eq!(
            none.errors[0].details.as_deref(),
            Some("Atleast one of the following parameters must be present: 'id', 'link'")
        );
        let both = exactly_one(&obj(json!({"id": "a", "link": "b"})), "id", "link").unwrap_err();
        assert_eq!(both.first_code(), 1010);
    }

    #[test]
    fn numbers_may_be_quoted() {
        let o = obj(json!({"a": "37.5", "b": 1, "c": "x", "d": true}));
        assert_eq!(number(&o, "a").unwrap(), 37.5);
        assert_eq!(number(&o, "b").unwrap(), 1.0);
        assert_eq!(number(&o, "c").unwrap_err().first_code(), 1009);
        assert_eq!(number(&o, "d").unwrap_err().first_code(), 1009);
        assert_eq!(number(&o, "e").unwrap_err().first_code(), 1008);
    }

    #[test]
    fn urls_need_a_scheme_and_host() {
        let o =
            obj(json!({"ok": "https://a.example/x.jpg", "ftp": "ftp://a/x", "bare": "https://"}));
        assert!(url(&o, "ok").is_ok());
        assert_eq!(url(&o, "ftp").unwrap_err().first_code(), 1009);
        assert_eq!(url(&o, "bare").unwrap_err().first_code(), 1009);
    }
}
