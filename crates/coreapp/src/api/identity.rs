//! Contacts' identities (spec onprem-messaging §4.3): a consumer who reinstalls WhatsApp or
//! changes phones gets a new identity, announced by a `user_identity_changed` system message.
//! With `show_security_notifications` on, sends to that contact are refused with 1028 until the
//! business acknowledges the new identity with `PUT /v1/contacts/{wa_id}/identity`, and every
//! inbound message shows the sender's identity (spec §7.4).

use crate::state::CoreState;
use crate::util::body::body_object;
use crate::util::body::required_str;
use crate::util::failure::{not_ready, store_failure};
use actix_web::{web, HttpResponse};
use serde_json::json;
use wa_api::envelope::{meta_only, payload};
use wa_api::{ApiError, Meta};
use wa_netproto::{Request, Response};
use wa_store::ContactIdentity;

/// `GET /v1/contacts/{wa_id}/identity`: the latest identity change recorded (with whether it was
/// acknowledged), else the identity the network knows now. An identity that never changed needs
/// no acknowledgement (sends to it are not blocked), so it answers `acknowledged: true`.
pub async fn get(
    state: web::Data<CoreState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let wa_id = path.into_inner();
    let identity = match state
        .store
        .find_identity(&wa_id)
        .await
        .map_err(store_failure)?
    {
        Some(recorded) => recorded,
        None => current_identity(&state, &wa_id).await?,
    };
    let body = json!({
        "hash": identity.hash,
        "created_timestamp": identity.created_ms,
        "acknowledged": identity.acknowledged,
    });
    Ok(HttpResponse::Ok().json(payload("contacts", body, Meta::current_coreapp())))
}

/// Asks the network for `wa_id`'s current identity: 1011 without a session, the network's code
/// (1013 for a number not on WhatsApp, 1009 for a malformed one) when it refuses.
async fn current_identity(state: &CoreState, wa_id: &str) -> Result<ContactIdentity, ApiError> {
    let session = state
        .session()
        .ok_or_else(|| not_ready("identity lookup"))?;
    let request = Request::GetIdentity {
        wa_id: wa_id.to_string(),
    };
    match session.request(request).await.map_err(ApiError::from)? {
        Response::Identity {
            wa_id,
            hash,
            created_timestamp,
        } => Ok(ContactIdentity {
            wa_id,
            hash,
            created_ms: created_timestamp,
            acknowledged: true,
        }),
        other => {
            tracing::error!("unexpected answer to an identity lookup: {other:?}");
            Err(ApiError::internal("Unexpected answer from the network"))
        }
    }
}

/// `PUT /v1/contacts/{wa_id}/identity` with `{"hash": ...}`: acknowledges the latest identity.
/// An identity that never changed is accepted as it is when `hash` names it.
pub async fn acknowledge(
    state: web::Data<CoreState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let wa_id = path.into_inner();
    let request = body_object(&body)?;
    let hash = required_str(&request, "hash")?;
    let recorded = state
        .store
        .find_identity(&wa_id)
        .await
        .map_err(store_failure)?;
    let accepted = match recorded {
        Some(identity) => {
            identity.hash == hash
                && state
                    .store
                    .acknowledge_identity(&wa_id, hash)
                    .await
                    .map_err(store_failure)?
        }
        None => current_identity(&state, &wa_id).await?.hash == hash,
    };
    if !accepted {
        return Err(ApiError::invalid_parameter("hash", hash));
    }
    Ok(HttpResponse::Ok().json(meta_only(Meta::current_coreapp())))
}
