//! `POST /v1/messages` and `PUT /v1/messages/{id}`, and the delivery worker that hands stored
//! messages to the network. A message is persisted before the API answers 201 and stays pending
//! until the network accepts it; after a crash it is sent again, and the network drops the
//! duplicate by id (design.md §3, invariant 1).

use crate::network::lock;
use crate::network::SessionError;
use crate::outbound;
use crate::rpc::{body_object, not_ready};
use crate::CoreState;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;
use wa_api::envelope::{meta_only, payload};
use wa_api::{ids, ApiError, ErrorCode, Meta};
use wa_netproto::{NetError, Request, Response};
use wa_store::OutboundMessage;

pub async fn send(state: web::Data<CoreState>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let request = body_object(&body)?;
    let send = outbound::validate(&request, state.registered_number().await?.as_deref())?;
    if !state.is_ready() {
        return Err(not_ready("message send"));
    }
    state.stats.check_overload(&state.config)?;
    if let Some(template) = &send.template {
        crate::templates::check(&state, template).await?;
    }
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
    state
        .store
        .insert_outbound_expiring(message, Some(expires_ms))
        .await
        .map_err(crate::rpc::store_failure)?;
    state.stats.outbound_persisted();
    state.send_wake.notify_one();
    let mut body = payload("messages", [json!({ "id": id })], Meta::current_coreapp());
    body["contacts"] = json!([{ "input": send.input, "wa_id": send.to }]);
    Ok(HttpResponse::Created().json(body))
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
        .map_err(crate::rpc::store_failure)?
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
    session.request(receipt).await.map_err(network_failure)?;
    Ok(HttpResponse::Ok().json(meta_only(Meta::current_coreapp())))
}

pub fn network_failure(err: SessionError) -> ApiError {
    match err {
        SessionError::Net(e) => ApiError::new(
            ErrorCode::from_code(e.code).unwrap_or(ErrorCode::InternalError),
            e.details.unwrap_or(e.title),
        ),
        other => ApiError::new(ErrorCode::ServiceNotReady, other.to_string()),
    }
}

/// Hands pending messages to the network while the coreapp is ready, at most
/// `max_inflight_sends` at a time, oldest first.
pub async fn delivery_worker(state: Arc<CoreState>) {
    let limit = state.config.max_inflight_sends;
    let permits = Arc::new(Semaphore::new(limit));
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    // Earlier attempts of messages whose send was postponed (the `retry` label of the send
    // statistics); an entry lives until its message is sent or failed.
    let retries: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let mut last_sweep = std::time::Instant::now();
    loop {
        let woken = state.send_wake.notified();
        if last_sweep.elapsed() >= EXPIRY_SWEEP_INTERVAL {
            last_sweep = std::time::Instant::now();
            let exclude: Vec<String> = lock(&in_flight).iter().cloned().collect();
            fail_expired(&state, exclude).await;
        }
        if state.is_ready() {
            let exclude: Vec<String> = lock(&in_flight).iter().cloned().collect();
            match state.store.pending_outbound(limit as i64, exclude).await {
                Ok(batch) if !batch.is_empty() => {
                    for message in batch {
                        let Ok(permit) = permits.clone().acquire_owned().await else {
                            return;
                        };
                        lock(&in_flight).insert(message.id.clone());
                        let (state, in_flight) = (state.clone(), in_flight.clone());
                        let retries = retries.clone();
                        tokio::spawn(async move {
                            let retry = lock(&retries).get(&message.id).copied().unwrap_or(0);
                            match deliver(&state, &message, retry).await {
                                Delivery::Done => lock(&retries).remove(&message.id),
                                Delivery::Postponed => lock(&retries)
                                    .insert(message.id.clone(), retry.saturating_add(1)),
                            };
                            lock(&in_flight).remove(&message.id);
                            drop(permit);
                            state.send_wake.notify_one();
                        });
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("reading pending messages failed: {e}"),
            }
        }
        tokio::select! {
            _ = woken => {}
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
        }
    }
}

/// How often the delivery worker looks for messages that gave up.
const EXPIRY_SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Fails pending messages past their expiry (never one being handed over right now): templates
/// with 410 `Message expired`, others with 408 `Message is not valid` (spec §2.7).
async fn fail_expired(state: &CoreState, exclude: Vec<String>) {
    let expired = match state.store.expired_outbound(now_ms(), 1000, exclude).await {
        Ok(expired) => expired,
        Err(e) => return tracing::warn!("looking for expired messages failed: {e}"),
    };
    for message in &expired {
        give_up(state, message).await;
    }
}

/// Templates have a ttl; everything else gives up after the longest wait for the network.
fn is_template(message: &OutboundMessage) -> bool {
    matches!(message.msg_type.as_str(), "template" | "hsm")
}

/// The expiry as the send stored it (the database column holds the same instant).
fn has_expired(state: &CoreState, message: &OutboundMessage) -> bool {
    let now = now_ms();
    if is_template(message) {
        let payload: Value = serde_json::from_str(&message.payload).unwrap_or(Value::Null);
        let expires_at = payload.get("expires_at").and_then(Value::as_i64);
        return expires_at.is_some_and(|at| now / 1000 > at);
    }
    let max_age_ms = state
        .config
        .max_pending_message_age_secs
        .saturating_mul(1000);
    now >= message.created_ms.saturating_add(max_age_ms)
}

/// Fails a message that expired before reaching the network: 410 for templates, 408 otherwise.
async fn give_up(state: &CoreState, message: &OutboundMessage) {
    let error = if is_template(message) {
        NetError::new(410, "Message expired")
    } else {
        NetError::new(408, "Message is not valid")
    };
    tracing::info!(
        "message {} gave up: {} {}",
        message.id,
        error.code,
        error.title
    );
    let recorded = crate::inbound::record_status(
        state,
        &message.id,
        &message.to,
        "failed",
        now_ms() / 1000,
        Some(error),
    );
    if let Err(e) = recorded.await {
        tracing::error!("recording the expiry of {} failed: {e}", message.id);
    }
    state.webhook_wake.notify_one();
}

/// What became of one attempt to hand a message to the network.
enum Delivery {
    /// Accepted or refused: the message has left the send queue.
    Done,
    /// Not attempted or no answer: it stays pending and goes again.
    Postponed,
}

/// One send. Accepted → `sent`; refused by the network → `failed` with its error; connection
/// trouble → stays pending and goes again on the next session. `retry` counts the earlier
/// attempts, for the statistics.
async fn deliver(state: &CoreState, message: &OutboundMessage, retry: u32) -> Delivery {
    let Some(session) = state.session().filter(|_| state.is_ready()) else {
        return Delivery::Postponed;
    };
    // A message that kept failing to reach the network (e.g. it hung) must not go out late.
    if has_expired(state, message) {
        give_up(state, message).await;
        return Delivery::Done;
    }
    let network_message: Value = serde_json::from_str(&message.payload).unwrap_or(Value::Null);
    let request = Request::SendMessage {
        id: message.id.clone(),
        to: message.to.clone(),
        message: network_message,
    };
    let handed_over = std::time::Instant::now();
    let (status, timestamp, error) = match session.request(request).await {
        Ok(Response::Accepted { timestamp, .. }) => {
            let elapsed = handed_over.elapsed();
            state
                .stats
                .outbound_accepted(&message.msg_type, retry, elapsed);
            ("sent", timestamp, None)
        }
        Ok(other) => {
            tracing::warn!("unexpected answer to a send: {other:?}");
            return Delivery::Postponed;
        }
        Err(SessionError::Net(e)) => ("failed", now_ms() / 1000, Some(e)),
        Err(e) => {
            tracing::debug!("send of {} postponed: {e}", message.id);
            return Delivery::Postponed;
        }
    };
    let recorded =
        crate::inbound::record_status(state, &message.id, &message.to, status, timestamp, error);
    if let Err(e) = recorded.await {
        tracing::error!("recording '{status}' for {} failed: {e}", message.id);
    }
    state.webhook_wake.notify_one();
    Delivery::Done
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
