//! The Cloud error envelope: `{"error": {"message", "type", "code", "error_subcode"?,
//! "error_data": {"messaging_product", "details"}, "fbtrace_id"}}`. Every Cloud handler answers
//! its failures as a [`CloudError`]; On-Prem failures of the core are turned into one through
//! the table in `codes` ([`CloudError::from_api_error`], [`CloudError::from_onprem_body`]).

use super::codes::{CloudCode, CloudErrorType};
use super::MESSAGING_PRODUCT;
use crate::error::echoed;
use crate::ApiError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

/// Graph's subcode for an id that names no usable object.
pub const SUBCODE_UNKNOWN_OBJECT: u32 = 33;

/// One Cloud error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudError {
    pub code: CloudCode,
    pub error_type: CloudErrorType,
    pub subcode: Option<u32>,
    /// `message` without the `(#code)` prefix; the code's title unless the situation has its own.
    pub message: String,
    pub details: String,
    /// Extra response headers (`Retry-After` of a throttled call).
    pub headers: Vec<(&'static str, String)>,
}

impl CloudError {
    pub fn new(code: CloudCode, details: impl Into<String>) -> Self {
        CloudError {
            code,
            error_type: code.error_type(),
            subcode: None,
            message: code.title().to_string(),
            details: details.into(),
            headers: Vec::new(),
        }
    }

    /// A missing, malformed, expired or revoked bearer token: 190, OAuthException, 401.
    pub fn invalid_token(details: impl Into<String>) -> Self {
        Self::new(CloudCode::InvalidToken, details)
    }

    /// 100: a Cloud parameter missing or of the wrong kind, checked before the core sees it.
    pub fn invalid_parameter(details: impl Into<String>) -> Self {
        Self::new(CloudCode::InvalidParameter, details)
    }

    /// 100/33: an id in the path that names no object (Graph's wording).
    pub fn unknown_object(id: &str, method: &str) -> Self {
        let message = format!(
            "Unsupported {method} request. Object with ID '{}' does not exist, cannot be loaded \
             due to missing permissions, or does not support this operation",
            echoed(id)
        );
        CloudError {
            error_type: CloudErrorType::GraphMethodException,
            subcode: Some(SUBCODE_UNKNOWN_OBJECT),
            details: message.clone(),
            message,
            ..Self::new(CloudCode::InvalidParameter, "")
        }
    }

    /// The Cloud form of an On-Prem error: its first error's code through the table, its details
    /// (or title) as `details`, and its headers.
    pub fn from_api_error(error: &ApiError) -> Self {
        let details = error.errors.first().map_or(String::new(), |e| {
            e.details.clone().unwrap_or_else(|| e.title.clone())
        });
        CloudError {
            headers: error.headers.clone(),
            ..Self::new(CloudCode::for_onprem(error.first_code()), details)
        }
    }

    /// The Cloud form of an On-Prem error envelope the coreapp answered with.
    pub fn from_onprem_body(body: &Value) -> Self {
        let first = &body["errors"][0];
        let code = first["code"]
            .as_u64()
            .and_then(|c| u32::try_from(c).ok())
            .unwrap_or(0);
        let details = first["details"]
            .as_str()
            .or_else(|| first["title"].as_str())
            .unwrap_or_default();
        Self::new(CloudCode::for_onprem(code), details)
    }

    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }

    /// The answer's body, with `fbtrace_id` (an opaque id of the failed call).
    pub fn body(&self, fbtrace_id: &str) -> Value {
        let mut error = json!({
            "message": format!("(#{}) {}", self.code.code(), self.message),
            "type": self.error_type.as_str(),
            "code": self.code.code(),
            "error_data": { "messaging_product": MESSAGING_PRODUCT, "details": self.details },
            "fbtrace_id": fbtrace_id,
        });
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = subcode.into();
        }
        json!({ "error": error })
    }
}

/// A new opaque trace id for an error answer, in the shape Graph's look like.
pub fn new_fbtrace_id() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

impl From<ApiError> for CloudError {
    fn from(error: ApiError) -> Self {
        Self::from_api_error(&error)
    }
}

impl std::fmt::Display for CloudError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "({}) {}: {}",
            self.code.code(),
            self.message,
            self.details
        )
    }
}

impl std::error::Error for CloudError {}

#[cfg(feature = "actix")]
mod actix {
    use super::{new_fbtrace_id, CloudError};
    use actix_web::http::StatusCode;
    use actix_web::{HttpResponse, ResponseError};

    impl ResponseError for CloudError {
        fn status_code(&self) -> StatusCode {
            StatusCode::from_u16(self.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }

        fn error_response(&self) -> HttpResponse {
            let mut response = HttpResponse::build(self.status_code());
            for (name, value) in &self.headers {
                response.insert_header((*name, value.as_str()));
            }
            response.json(self.body(&new_fbtrace_id()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn the_envelope_has_every_field() {
        let error = CloudError::from_api_error(&ApiError::new(ErrorCode::TemplatePaused, "p"));
        let body = error.body("trace");
        assert_eq!(
            body,
            json!({"error": {
                "message": "(#132015) Template is Paused", "type": "OAuthException",
                "code": 132015, "error_data": {"messaging_product": "whatsapp", "details": "p"},
                "fbtrace_id": "trace"}})
        );
        assert_eq!(error.http_status(), 400);
    }

    #[test]
    fn an_unknown_object_is_100_with_subcode_33() {
        let body = CloudError::unknown_object("123", "post").body("t");
        assert_eq!(body["error"]["code"], 100);
        assert_eq!(body["error"]["error_subcode"], 33);
        assert_eq!(body["error"]["type"], "GraphMethodException");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("Object with ID '123' does not exist"),
            "{message}"
        );
    }

    #[test]
    fn an_onprem_body_is_read_without_panicking() {
        let body = json!({"errors": [{"code": 1013, "title": "User is not valid"}]});
        let error = CloudError::from_onprem_body(&body);
        assert_eq!(
            (error.code.code(), error.details.as_str()),
            (131026, "User is not valid")
        );
        assert_eq!(
            CloudError::from_onprem_body(&json!("x")).code.code(),
            131000
        );
    }
}
