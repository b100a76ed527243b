//! Idempotency keys on `POST /v1/messages` (see `wa_api::idempotency`): a send with a key looks
//! for the key's first answer before doing anything, and stores its message together with its
//! answer, so a client that lost the answer (a webapp or coreapp killed mid-call, a timeout) can
//! retry and is sent nothing twice.

use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;
use wa_api::idempotency::{check_key, reused_with_another_body, IDEMPOTENCY_KEY_HEADER, WINDOW_MS};
use wa_api::ApiError;
use wa_store::{IdempotentSend, OutboundMessage};

use crate::state::CoreState;
use crate::util::failure::store_failure;

/// A send made with a key: the key and what identifies its request.
pub struct Claim {
    key: String,
    request_hash: String,
}

/// The request's key, checked, with the SHA-256 of its body (the webapp relays the body as the
/// JSON it parsed, so the same body always arrives as the same bytes); `None` without the header.
pub fn claim_of(req: &HttpRequest, body: &[u8]) -> Result<Option<Claim>, ApiError> {
    let Some(value) = req.headers().get(IDEMPOTENCY_KEY_HEADER) else {
        return Ok(None);
    };
    let key = String::from_utf8_lossy(value.as_bytes()).into_owned();
    check_key(&key)?;
    let digest = ring::digest::digest(&ring::digest::SHA256, body);
    let request_hash = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    Ok(Some(Claim { key, request_hash }))
}

/// The answer already given to this key within the window, if any.
pub async fn earlier_answer(
    state: &CoreState,
    claim: &Claim,
    now_ms: i64,
) -> Result<Option<HttpResponse>, ApiError> {
    let stored = state
        .store
        .find_idempotent_send(&claim.key, now_ms - WINDOW_MS)
        .await
        .map_err(store_failure)?;
    stored.map(|stored| replay(claim, &stored)).transpose()
}

/// Stores `message` with its `answer` under the key; when a concurrent send took the key first,
/// nothing is stored and that send's answer is returned.
pub async fn store_with_answer(
    state: &CoreState,
    claim: &Claim,
    message: OutboundMessage,
    expires_ms: i64,
    answer: &Value,
) -> Result<Option<HttpResponse>, ApiError> {
    let created_ms = message.created_ms;
    let record = IdempotentSend {
        key: claim.key.clone(),
        request_hash: claim.request_hash.clone(),
        message_id: message.id.clone(),
        response: answer.to_string(),
        created_ms,
    };
    let taken = state
        .store
        .insert_outbound_idempotent(message, Some(expires_ms), record, created_ms - WINDOW_MS)
        .await
        .map_err(store_failure)?;
    taken.map(|stored| replay(claim, &stored)).transpose()
}

/// The first answer again (201 and its body), or 1009 when the key came with another body.
fn replay(claim: &Claim, stored: &IdempotentSend) -> Result<HttpResponse, ApiError> {
    if stored.request_hash != claim.request_hash {
        return Err(reused_with_another_body(&claim.key));
    }
    tracing::info!(
        message_id = %stored.message_id,
        "repeated send with a known Idempotency-Key: first answer returned, nothing sent"
    );
    let body: Value = serde_json::from_str(&stored.response).map_err(|e| {
        tracing::error!("stored answer of an idempotency key is not JSON: {e}");
        ApiError::internal("Stored answer unreadable")
    })?;
    Ok(HttpResponse::Created().json(body))
}
