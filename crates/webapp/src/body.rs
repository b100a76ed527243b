//! Request bodies: JSON whatever the declared `Content-Type` (the original read JSON only under
//! `application/json`, see docs/compatibility.md); an empty body is an empty parameter set; a JSON
//! value that is not an object counts as empty; a syntax error is 400/1025. Fields are then read
//! one by one so each problem gets its On-Prem code (1008 missing, 1009 wrong type or value).

use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde_json::{Map, Value};
use std::future::Future;
use std::pin::Pin;
use wa_api::{ApiError, ErrorCode};

/// The top-level fields of a JSON request body.
#[derive(Debug, Default)]
pub struct JsonParams {
    fields: Map<String, Value>,
    /// Whether a JSON body was sent at all (the login flow treats that differently).
    pub present: bool,
}

impl JsonParams {
    /// Reads `bytes` as JSON whatever `Content-Type` says: clients send JSON as `text/plain`, as
    /// `application/JSON` or with no type at all, and answering them "missing parameter" for a
    /// parameter they sent helps nobody (docs/compatibility.md). The type is not needed.
    pub fn parse(_content_type: Option<&str>, bytes: &[u8]) -> Result<JsonParams, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonParams::default());
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|_| ApiError::invalid_json())?;
        Ok(JsonParams {
            fields: match value {
                Value::Object(fields) => fields,
                _ => Map::new(),
            },
            present: true,
        })
    }

    /// The whole body as a JSON object (empty when none was sent), for relaying to the coreapp.
    pub fn into_value(self) -> Value {
        Value::Object(self.fields)
    }

    /// Every string of the body within `wa_api::limits::ANY_STRING_CHARS` (fields with tighter
    /// limits are checked where they are read): whatever the endpoint, the database never gets a
    /// value too long for it. Restoring a backup reads its (large) body with [`Self::parse`].
    pub fn check_lengths(&self) -> Result<(), ApiError> {
        let max = wa_api::limits::ANY_STRING_CHARS;
        self.fields.iter().try_for_each(|(key, value)| {
            if key.chars().count() > max {
                return Err(wa_api::limits::too_long("key", max));
            }
            wa_api::limits::bounded_strings(value, key, max)
        })
    }

    /// Whether the body has no fields at all.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// A string field that must be present.
    pub fn required_str(&self, name: &str) -> Result<&str, ApiError> {
        self.optional_str(name)?
            .ok_or_else(|| ApiError::missing_parameter(name))
    }

    /// A string field that may be absent (or null); any other JSON type is 1009.
    pub fn optional_str(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(ApiError::invalid_parameter(name, &short(other))),
        }
    }
}

/// Shows a rejected value without echoing a whole document back.
fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(64) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

impl FromRequest for JsonParams {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map_or(1024 * 1024, |s| s.settings.webapp.max_body_bytes);
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut payload = payload.take();
        Box::pin(async move {
            let body = read_body(&mut payload, limit, || too_large(limit)).await?;
            let params = JsonParams::parse(content_type.as_deref(), &body)?;
            params.check_lengths()?;
            Ok(params)
        })
    }
}

/// Reads a whole request body, refusing it with `over_limit()` as soon as it passes `limit` bytes
/// (so an oversize body is never held in memory). Every route that reads a raw body uses this.
pub async fn read_body<S>(
    stream: &mut S,
    limit: usize,
    over_limit: impl FnOnce() -> ApiError,
) -> Result<Vec<u8>, ApiError>
where
    S: futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> + Unpin,
{
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::new(
                ErrorCode::RequestNotValid,
                "Unable to read the request body",
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(over_limit());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        ErrorCode::ParameterValueInvalid,
        format!("Request body is too large: the limit is {limit} bytes"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: Option<&str> = Some("application/json; charset=utf-8");

    #[test]
    fn syntax_error_is_1025() {
        let err = JsonParams::parse(JSON, b"{\"a\":").unwrap_err();
        assert_eq!(err.first_code(), 1025);
        assert_eq!(err.status, 400);
    }

    #[test]
    fn json_is_read_whatever_the_declared_type_and_empty_bodies_are_empty_params() {
        for content_type in [Some("text/plain"), Some("application/JSON"), None] {
            let params = JsonParams::parse(content_type, br#"{"to": "1"}"#).unwrap();
            assert_eq!(params.required_str("to").unwrap(), "1");
            let err = JsonParams::parse(content_type, b"to=1").unwrap_err();
            assert_eq!(err.first_code(), 1025);
        }
        assert!(!JsonParams::parse(JSON, b"  ").unwrap().present);
        assert!(JsonParams::parse(JSON, b"[1,2]")
            .unwrap()
            .optional_str("x")
            .unwrap()
            .is_none());
    }

    #[test]
    fn field_types_are_checked() {
        let p = JsonParams::parse(JSON, br#"{"name": 5, "ok": "yes", "nothing": null}"#).unwrap();
        let err = p.required_str("name").unwrap_err();
        assert_eq!(err.first_code(), 1009);
        assert_eq!(
            err.errors[0].details.as_deref(),
            Some("Parameter 'name' has invalid value '5'")
        );
        assert_eq!(p.required_str("ok").unwrap(), "yes");
        assert_eq!(p.required_str("missing").unwrap_err().first_code(), 1008);
        assert_eq!(p.required_str("nothing").unwrap_err().first_code(), 1008);
    }
}
