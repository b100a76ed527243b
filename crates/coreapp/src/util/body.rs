//! Reading the relayed JSON body. The webapp has checked its syntax already; these helpers give
//! the coreapp's handlers the fields with the On-Prem errors for missing and wrong ones.

use serde_json::{Map, Value};
use wa_api::ApiError;

/// The relayed JSON body as an object; an empty body is an empty object, like the webapp's rule.
pub fn body_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body).map_err(|_| ApiError::invalid_json())? {
        Value::Object(map) => Ok(map),
        _ => Ok(Map::new()),
    }
}

/// A string field that must be present.
pub fn required_str<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Err(ApiError::missing_parameter(name)),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(ApiError::invalid_parameter(name, &other.to_string())),
    }
}
