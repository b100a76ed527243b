//! The validators of `PATCH /v1/settings/application` fields: each reads one JSON value and
//! answers the On-Prem error for a wrong one.

use super::*;

/// 1009 `No valid parameters provided`: the body has no setting we know.
pub fn no_valid_parameters() -> ApiError {
    ApiError::new(
        ErrorCode::ParameterValueInvalid,
        "No valid parameters provided",
    )
}

pub(super) fn is_no_valid_parameters(error: &ApiError) -> bool {
    error
        .errors
        .first()
        .and_then(|e| e.details.as_deref())
        .is_some_and(|details| details == "No valid parameters provided")
}

pub(super) fn stored_wa_id(value: &Value) -> String {
    value
        .get("wa_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

pub(super) fn invalid(name: &str, value: &Value) -> ApiError {
    ApiError::invalid_parameter(name, &shown(value))
}

/// Strings are quoted as they are, other JSON values as JSON text (cut short by
/// `ApiError::invalid_parameter`, like every echoed value).
pub(super) fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

pub(super) fn object<'a>(name: &str, value: &'a Value) -> Result<&'a Map<String, Value>, ApiError> {
    value.as_object().ok_or_else(|| invalid(name, value))
}

/// Only JSON booleans: `"true"` or `1` are refused, as the original webapp did.
pub(super) fn boolean(name: &str, value: &Value) -> Result<bool, ApiError> {
    value.as_bool().ok_or_else(|| invalid(name, value))
}

/// A non-negative integer given as a JSON integer or a string of digits (the docs type the
/// back-off delays as strings, clients send both).
pub(super) fn integer_in(name: &str, value: &Value, min: u64, max: u64) -> Result<u64, ApiError> {
    let parsed = match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) if is_digits(text) => text.parse::<u64>().ok(),
        _ => None,
    };
    parsed
        .filter(|number| (min..=max).contains(number))
        .ok_or_else(|| invalid(name, value))
}

pub(super) fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

pub(super) fn max_concurrent_requests(value: &Value) -> Result<u32, ApiError> {
    let name = "webhooks.max_concurrent_requests";
    let number = integer_in(name, value, 1, u64::from(u32::MAX))?;
    u32::try_from(number)
        .ok()
        .filter(|number| ALLOWED_MAX_CONCURRENT_REQUESTS.contains(number))
        .ok_or_else(|| invalid(name, value))
}

pub(super) fn webhook_url(value: &Value) -> Result<String, ApiError> {
    match value.as_str() {
        Some(url) if url.is_empty() || is_http_url(url) => Ok(url.to_string()),
        _ => Err(invalid("webhooks.url", value)),
    }
}

/// An absolute `http`/`https` URL with a host (and a valid port if one is given). HTTPS is what
/// the docs ask for, but plain HTTP is allowed for local receivers (docs/compatibility.md).
pub fn is_http_url(url: &str) -> bool {
    if url.chars().count() > MAX_URL_CHARS
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    valid_host_port(host_port)
}

pub(super) fn valid_host_port(host_port: &str) -> bool {
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        // IPv6 literal: `[::1]` or `[::1]:8080`.
        match bracketed.split_once(']') {
            Some((host, "")) => (host, None),
            Some((host, after)) => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return false,
            },
            None => return false,
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    let port_ok =
        port.is_none_or(|port| is_digits(port) && port.parse::<u16>().is_ok_and(|p| p > 0));
    !host.is_empty() && port_ok
}

pub(super) fn auto_download(value: &Value) -> Result<Vec<MediaType>, ApiError> {
    let name = "media.auto_download";
    let items = value.as_array().ok_or_else(|| invalid(name, value))?;
    let mut kinds = Vec::with_capacity(items.len());
    for item in items {
        let kind = item
            .as_str()
            .and_then(MediaType::parse)
            .ok_or_else(|| invalid(name, item))?;
        // A repeated type means the same as once; keep the list clean for GET.
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

/// Since v2.35 pass-through cannot be turned back on, so only `false` is accepted.
pub(super) fn pass_through(value: &Value) -> Result<bool, ApiError> {
    match boolean("pass_through", value)? {
        false => Ok(false),
        true => Err(invalid("pass_through", value)),
    }
}

pub(super) fn log_level(value: &Value) -> Result<String, ApiError> {
    value
        .as_str()
        .map(str::to_ascii_lowercase)
        .filter(|level| LOG_LEVELS.contains(&level.as_str()))
        .ok_or_else(|| invalid("log_level", value))
}

/// A wa_id or a group id (`<creator>-<timestamp>`); `""` unsets it.
pub(super) fn on_call_pager(value: &Value) -> Result<Option<String>, ApiError> {
    let name = "on_call_pager";
    let text = value.as_str().ok_or_else(|| invalid(name, value))?;
    if text.is_empty() {
        return Ok(None);
    }
    let valid = text.len() <= MAX_PAGER_CHARS
        && text.starts_with(|c: char| c.is_ascii_digit())
        && text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || byte == b'-');
    if valid {
        Ok(Some(text.to_string()))
    } else {
        Err(invalid(name, value))
    }
}
