//! The errors wanet answers with: On-Prem codes on the protocol, HTTP statuses on the control API.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use wa_netproto::NetError;

/// 1005: bad credentials, an unauthenticated request, a failed registration.
pub fn access_denied(details: impl Into<String>) -> NetError {
    NetError::new(1005, "Access denied").with_details(details)
}

/// 1009: a request field has a value the network does not accept.
pub fn invalid_parameter(details: impl Into<String>) -> NetError {
    NetError::new(1009, "Parameter value is not valid").with_details(details)
}

/// 1013: the recipient is not a WhatsApp user.
pub fn user_not_valid() -> NetError {
    NetError::new(1013, "User is not valid")
}

/// 470: free-form message outside the customer-service window.
pub fn re_engagement() -> NetError {
    NetError::new(470, "Re-engagement message").with_details(
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    )
}

/// The On-Prem wording for a registration that failed for `reason`.
pub fn registration_failed(reason: &str) -> NetError {
    access_denied(format!("Registration failed for reason '{reason}'."))
}

/// A control API failure, answered as `{"error": "..."}`.
#[derive(Debug)]
pub enum ControlError {
    BadRequest(String),
    NotFound(String),
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ControlError::BadRequest(m) | ControlError::NotFound(m) => f.write_str(m),
        }
    }
}

impl ResponseError for ControlError {
    fn status_code(&self) -> StatusCode {
        match self {
            ControlError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ControlError::NotFound(_) => StatusCode::NOT_FOUND,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .json(serde_json::json!({ "error": self.to_string() }))
    }
}
