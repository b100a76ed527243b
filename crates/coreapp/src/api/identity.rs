//! Contacts' identities (spec onprem-messaging §4.3): a consumer who reinstalls WhatsApp or
//! changes phones gets a new identity, announced by a `user_identity_changed` system message.
//! With `show_security_notifications` on, sends to that contact are refused with 1028 until the
//! business acknowledges the new identity with `PUT /v1/contacts/{wa_id}/identity`, and every
//! inbound message shows the sender's identity (spec §7.4).

use crate::state::CoreState;
use crate::util::body::body_object;
use crate::util::body::required_str;
use crate::util::failure::store_failure;
use actix_web::{web, HttpResponse};
use serde_json::json;
use wa_api::envelope::{meta_only, payload};
use wa_api::{ApiError, ErrorCode, Meta};
/// `GET /v1/contacts/{wa_id}/identity`.
pub async fn get(
    state: web::Data<CoreState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let wa_id = path.into_inner();
    let identity = state
        .store
        .find_identity(&wa_id)
        .await
        .map_err(store_failure)?
        .ok_or_else(|| unknown_identity(&wa_id))?;
    let body = json!({
        "hash": identity.hash,
        "created_timestamp": identity.created_ms,
        "acknowledged": identity.acknowledged,
    });
    Ok(HttpResponse::Ok().json(payload("contacts", body, Meta::current_coreapp())))
}

/// `PUT /v1/contacts/{wa_id}/identity` with `{"hash": ...}`: acknowledges the latest identity.
pub async fn acknowledge(
    state: web::Data<CoreState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let wa_id = path.into_inner();
    let request = body_object(&body)?;
    let hash = required_str(&request, "hash")?;
    let identity = state
        .store
        .find_identity(&wa_id)
        .await
        .map_err(store_failure)?
        .ok_or_else(|| unknown_identity(&wa_id))?;
    if identity.hash != hash
        || !state
            .store
            .acknowledge_identity(&wa_id, hash)
            .await
            .map_err(store_failure)?
    {
        return Err(ApiError::invalid_parameter("hash", hash));
    }
    Ok(HttpResponse::Ok().json(meta_only(Meta::current_coreapp())))
}

fn unknown_identity(wa_id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceNotFound,
        format!("No identity is known for contact '{wa_id}'"),
    )
}
