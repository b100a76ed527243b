//! `POST /v1/messages` and `PUT /v1/messages/{id}`, and the delivery worker that hands stored
//! messages to the network. A message is persisted before the API answers 201 and stays pending
//! until the network accepts it; after a crash it is sent again, and the network drops the
//! duplicate by id (design.md §3, invariant 1).

use crate::network::lock;
use crate::network::SessionError;
use crate::rpc::{body_object, not_ready};
use crate::CoreState;
use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;
use wa_api::envelope::{meta_only, payload};
use wa_api::{ids, phone, ApiError, ErrorCode, Meta};
use wa_netproto::{Request, Response};
use wa_store::OutboundMessage;

/// Longest text body (spec onprem-messaging §2.4.1).
const MAX_TEXT_CHARS: usize = 4096;

/// Every message type of the API; the ones this build cannot send yet are refused clearly.
const MESSAGE_TYPES: &[&str] = &[
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "template",
    "hsm",
    "reaction",
];

pub async fn send(state: web::Data<CoreState>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let request = body_object(&body)?;
    let send = validate(&request, state.registered_number().await?.as_deref())?;
    if !state.is_ready() {
        return Err(not_ready("message send"));
    }
    state.stats.check_overload(&state.config)?;
    crate::identity::check_acknowledged(&state, &send.to).await?;
    let mut send = send;
    crate::media::resolve_media(&state, &mut send.network_message).await?;
    let id = ids::outbound_message_id(&send.to);
    let message = OutboundMessage {
        id: id.clone(),
        to: send.to.clone(),
        msg_type: send.msg_type,
        payload: send.network_message.to_string(),
        created_ms: now_ms(),
    };
    state
        .store
        .insert_outbound(message)
        .await
        .map_err(crate::rpc::store_failure)?;
    state.stats.outbound_persisted();
    state.send_wake.notify_one();
    let mut body = payload("messages", [json!({ "id": id })], Meta::current_coreapp());
    body["contacts"] = json!([{ "input": send.input, "wa_id": send.to }]);
    Ok(HttpResponse::Created().json(body))
}

struct ValidSend {
    input: String,
    to: String,
    msg_type: String,
    /// What goes to the network: the type and its object, plus `preview_url` for text.
    network_message: Value,
}

/// The On-Prem validation order and wording (spec onprem-messaging §2.2).
fn validate(request: &Map<String, Value>, own_number: Option<&str>) -> Result<ValidSend, ApiError> {
    let input = match request.get("to") {
        None | Some(Value::Null) => return Err(ApiError::missing_parameter("to")),
        Some(Value::String(to)) => to.clone(),
        Some(other) => return Err(ApiError::invalid_parameter("to", &other.to_string())),
    };
    let msg_type = match request.get("type") {
        None | Some(Value::Null) => "text".to_string(),
        Some(Value::String(t)) if MESSAGE_TYPES.contains(&t.as_str()) => t.clone(),
        Some(other) => return Err(ApiError::invalid_parameter("type", &display(other))),
    };
    match request.get("recipient_type") {
        None | Some(Value::Null) => {}
        Some(Value::String(r)) if r == "individual" => {}
        Some(other) => {
            return Err(ApiError::invalid_parameter(
                "recipient_type",
                &display(other),
            ))
        }
    }
    let preview_url = match request.get("preview_url") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(ApiError::invalid_parameter("preview_url", &display(other))),
    };
    check_type_objects(request, &msg_type)?;
    if msg_type != "text" {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            format!("Message type '{msg_type}' is not supported by this build yet"),
        ));
    }
    let text = text_object(request)?;
    let to = phone::wa_id_of(&input).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UserNotValid,
            format!("Recipient '{input}' is not a valid WhatsApp user"),
        )
    })?;
    if own_number == Some(to.as_str()) {
        return Err(ApiError::new(
            ErrorCode::BadUser,
            "Cannot send a message to yourself",
        ));
    }
    Ok(ValidSend {
        input,
        to,
        network_message: json!({ "type": "text", "text": text, "preview_url": preview_url }),
        msg_type,
    })
}

/// The object for the declared type is required; objects of other types are refused.
fn check_type_objects(request: &Map<String, Value>, msg_type: &str) -> Result<(), ApiError> {
    if request.get(msg_type).is_none_or(Value::is_null) {
        return Err(ApiError::new(
            ErrorCode::RequiredParameterMissing,
            format!("Parameter '{msg_type}' is mandatory for type '{msg_type}'"),
        ));
    }
    for other in MESSAGE_TYPES.iter().filter(|t| **t != msg_type) {
        if request.get(*other).is_some_and(|v| !v.is_null()) {
            return Err(ApiError::new(
                ErrorCode::ParameterNotRequired,
                format!("Parameter '{other}' is not required for type '{msg_type}'"),
            ));
        }
    }
    Ok(())
}

fn text_object(request: &Map<String, Value>) -> Result<Value, ApiError> {
    let Some(text) = request.get("text").and_then(Value::as_object) else {
        let shown = request.get("text").map(display).unwrap_or_default();
        return Err(ApiError::invalid_parameter("text", &shown));
    };
    let body = match text.get("body") {
        None | Some(Value::Null) => return Err(ApiError::missing_parameter("body")),
        Some(Value::String(body)) => body,
        Some(other) => return Err(ApiError::invalid_parameter("body", &display(other))),
    };
    if body.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::new(
            ErrorCode::MessageTooLong,
            format!("Message body is longer than {MAX_TEXT_CHARS} characters"),
        ));
    }
    if body.trim().is_empty() {
        return Err(ApiError::invalid_parameter("body", body));
    }
    Ok(json!({ "body": body }))
}

fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
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
    loop {
        let woken = state.send_wake.notified();
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
