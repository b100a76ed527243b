//! `POST /v1/messages` and `PUT /v1/messages/{id}`, and the delivery worker that hands stored
//! messages to the network. A message is persisted before the API answers 201 and stays pending
//! until the network accepts it; after a crash it is sent again, and the network drops the
//! duplicate by id (design.md §3, invariant 1).

use crate::domain::{idempotency, outbound};
use crate::state::CoreState;
use crate::util::body::body_object;
use crate::util::failure::not_ready;
use crate::util::now_ms;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use wa_api::envelope::{meta_only, payload};
use wa_api::{ids, ApiError, ErrorCode, Meta};
use wa_netproto::Request;
use wa_store::OutboundMessage;

pub use crate::engine::delivery::delivery_worker;

pub async fn send(
    state: web::Data<CoreState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let request = body_object(&body)?;
    let claim = idempotency::claim_of(&req, &body)?;
    let mut send = outbound::validate(&request, state.registered_number().await?.as_deref())?;
    if !state.cluster.may_send(&send.to) {
        return Err(crate::util::failure::not_shard_holder());
    }
    // A repeat is answered before the readiness and overload checks: it sends nothing.
    if let Some(claim) = &claim {
        if let Some(first) = idempotency::earlier_answer(&state, claim, now_ms()).await? {
            return Ok(first);
        }
    }
    if !state.is_ready() {
        return Err(not_ready("message send"));
    }
    state.stats.check_overload(&state.config)?;
    check_content(&state, &send).await?;
    crate::domain::identity::check_acknowledged(&state, &send.to).await?;
    crate::domain::media::resolve_media(&state, &mut send.network_message).await?;
    let id = ids::outbound_message_id(&send.to);
    let created_ms = now_ms();
    let (network_message, expires_ms) = with_expiry(&state, &send, created_ms);
    let message = OutboundMessage {
        id: id.clone(),
        to: send.to.clone(),
        msg_type: send.msg_type,
        payload: network_message.to_string(),
        created_ms,
    };
    let mut body = payload("messages", [json!({ "id": id })], Meta::current_coreapp());
    body["contacts"] = json!([{ "input": send.input, "wa_id": send.to }]);
    match &claim {
        None => state
            .store
            .insert_outbound_expiring(message, Some(expires_ms))
            .await
            .map_err(crate::util::failure::store_failure)?,
        Some(claim) => {
            let taken =
                idempotency::store_with_answer(&state, claim, message, expires_ms, &body).await?;
            if let Some(first) = taken {
                return Ok(first);
            }
        }
    }
    state.stats.outbound_persisted();
    state.send_wake.notify_one();
    Ok(HttpResponse::Created().json(body))
}

/// The checks that need what the network knows: the template and whether the recipient's app
/// shows its buttons, the catalog of a product message.
async fn check_content(state: &CoreState, send: &outbound::ValidSend) -> Result<(), ApiError> {
    if let Some(template) = &send.template {
        let hydrated = crate::domain::templates::check(state, template).await?;
        if hydrated.has_buttons {
            crate::domain::capabilities::require_template_buttons(state, &send.to).await?;
        }
    }
    crate::domain::catalogs::check(state, &send.network_message).await
}

/// When the message gives up: templates after their ttl (spec §2.7; the network is told too, as
/// `expires_at` in epoch seconds, and fails it with 410 if the phone gets it later), other
/// messages after `max_pending_message_age_secs` without reaching the network (408).
fn with_expiry(state: &CoreState, send: &outbound::ValidSend, created_ms: i64) -> (Value, i64) {
    let mut network_message = send.network_message.clone();
    if send.template.is_none() {
        let age_ms = state
            .config
            .max_pending_message_age_secs
            .saturating_mul(1000);
        return (network_message, created_ms.saturating_add(age_ms));
    }
    let ttl = outbound::ttl::effective(send.ttl_secs, state.config.min_message_ttl_secs);
    let expires_ms = created_ms.saturating_add(ttl.saturating_mul(1000));
    network_message["expires_at"] = json!(expires_ms / 1000);
    (network_message, expires_ms)
}

fn display(value: &Value) -> String {
    outbound::fields::display(value)
}

/// `PUT /v1/messages/{id}` with `{"status":"read"}`: a read receipt to the sender's phone.
pub async fn mark_read(
    state: web::Data<CoreState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let request = body_object(&body)?;
    match request.get("status") {
        None | Some(Value::Null) => return Err(ApiError::missing_parameter("status")),
        Some(Value::String(s)) if s == "read" => {}
        Some(other) => return Err(ApiError::invalid_parameter("status", &display(other))),
    }
    let id = path.into_inner();
    let message = state
        .store
        .find_message(&id)
        .await
        .map_err(crate::util::failure::store_failure)?
        .filter(|m| !m.outbound)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ResourceNotFound,
                format!("Message '{id}' not found"),
            )
        })?;
    let session = match state.session() {
        Some(session) if state.is_ready() => session,
        _ => return Err(not_ready("read receipt")),
    };
    let receipt = Request::ReadReceipt {
        message_id: id,
        to: message.peer,
    };
    session.request(receipt).await.map_err(ApiError::from)?;
    Ok(HttpResponse::Ok().json(meta_only(Meta::current_coreapp())))
}
