//! EXTENSION `GET /v1/messages/{id}`: a stored message and its latest status, so a client that
//! cannot receive webhooks (the admin console) can follow a message it sent by polling.
//!
//! The original routed this path to a stub answering 200 with `meta` only and no client relies
//! on that; answering the message is a superset of it.

use crate::state::CoreState;
use crate::util::failure::store_failure;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use wa_api::envelope::{payload, Meta};
use wa_api::{ApiError, ErrorCode};
use wa_store::StoredMessage;

/// One message as the extension shows it; `timestamp` is when `status` was reached (epoch
/// seconds as a string, like the webhooks).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct MessageStatus {
    pub id: String,
    /// The customer: the recipient of an outbound message, the sender of an inbound one.
    pub to: String,
    pub direction: &'static str,
    #[serde(rename = "type")]
    pub msg_type: String,
    pub status: String,
    pub timestamp: String,
    /// Why a `failed` message failed: the error objects of its webhook (code, title, details).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<serde_json::Value>,
}

impl From<StoredMessage> for MessageStatus {
    fn from(message: StoredMessage) -> Self {
        MessageStatus {
            id: message.id,
            to: message.peer,
            direction: if message.outbound {
                "outbound"
            } else {
                "inbound"
            },
            msg_type: message.msg_type,
            status: message.status,
            timestamp: (message.updated_ms / 1000).to_string(),
            // Written by the coreapp itself; text that does not parse is left out, not an error.
            errors: message
                .errors
                .and_then(|text| serde_json::from_str(&text).ok()),
        }
    }
}

pub async fn get(
    state: web::Data<CoreState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let message = state
        .store
        .find_message(&id)
        .await
        .map_err(store_failure)?
        .ok_or_else(|| ApiError::new(ErrorCode::ResourceNotFound, "Message not found"))?;
    let messages = [MessageStatus::from(message)];
    Ok(HttpResponse::Ok().json(payload("messages", messages, Meta::current_coreapp())))
}
