//! `POST /v1/contacts` (spec onprem-messaging §4): which numbers are on WhatsApp, with their
//! wa_id. Answers are cached for 7 days; `force_check` bypasses the cache; `no_wait` answers at
//! once with `processing` for what is not cached and delivers the rest by webhook.

use crate::state::CoreState;
use crate::util::body::body_object;
use crate::util::failure::not_ready;
use crate::util::failure::store_failure;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use wa_api::envelope::payload;
use wa_api::webhooks::CallbackKind;
use wa_api::{phone, webhooks, ApiError, Meta};
use wa_netproto::{Request, Response};
use wa_store::NewCallback;

const CACHE_SECS: i64 = 7 * 24 * 3600;

/// One input and what became of it.
struct Lookup {
    input: String,
    wa_id: Option<String>,
}

pub async fn check(
    state: web::Data<CoreState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = body_object(&body)?;
    let inputs = contact_inputs(&body)?;
    let wait = match body.get("blocking") {
        None | Some(Value::Null) => false,
        Some(Value::String(b)) if b == "wait" => true,
        Some(Value::String(b)) if b == "no_wait" => false,
        Some(other) => return Err(ApiError::invalid_parameter("blocking", &text_of(other))),
    };
    let force = match body.get("force_check") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(ApiError::invalid_parameter("force_check", &text_of(other))),
    };
    if !state.is_ready() {
        return Err(not_ready("contacts check"));
    }
    let lookups: Vec<Lookup> = inputs
        .into_iter()
        .map(|input| Lookup {
            wa_id: phone::wa_id_of(&input),
            input,
        })
        .collect();
    let known = if force {
        HashMap::new()
    } else {
        cached(&state, &lookups).await?
    };
    let unknown: Vec<String> = lookups
        .iter()
        .filter_map(|l| l.wa_id.clone())
        .filter(|id| !known.contains_key(id))
        .collect();
    if wait || unknown.is_empty() {
        let mut answers = known;
        answers.extend(ask_network(&state, unknown).await?);
        return Ok(answer(&lookups, &answers));
    }
    let reply = answer(&lookups, &known);
    crate::util::spawn_once(
        "contacts check",
        finish_in_background(state.into_inner(), lookups, unknown),
    );
    Ok(reply)
}

fn contact_inputs(body: &serde_json::Map<String, Value>) -> Result<Vec<String>, ApiError> {
    let list = match body.get("contacts") {
        None | Some(Value::Null) => return Err(ApiError::missing_parameter("contacts")),
        Some(Value::Array(list)) if !list.is_empty() => list,
        Some(other) => return Err(ApiError::invalid_parameter("contacts", &text_of(other))),
    };
    list.iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.clone()),
            other => Err(ApiError::invalid_parameter("contacts", &text_of(other))),
        })
        .collect()
}

fn text_of(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_string)
}

async fn cached(state: &CoreState, lookups: &[Lookup]) -> Result<HashMap<String, bool>, ApiError> {
    let ids = lookups.iter().filter_map(|l| l.wa_id.clone()).collect();
    let fresh_since = now_secs() - CACHE_SECS;
    state
        .store
        .cached_contacts(ids, fresh_since)
        .await
        .map_err(store_failure)
}

/// Asks the network about `wa_ids` and caches the answers.
async fn ask_network(
    state: &CoreState,
    wa_ids: Vec<String>,
) -> Result<HashMap<String, bool>, ApiError> {
    if wa_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let session = state.session().ok_or_else(|| not_ready("contacts check"))?;
    let results = match session
        .request(Request::CheckContacts { wa_ids })
        .await
        .map_err(ApiError::from)?
    {
        Response::Contacts { results } => results,
        other => {
            tracing::error!("unexpected answer to a contacts check: {other:?}");
            return Err(ApiError::internal("Unexpected answer from the network"));
        }
    };
    let pairs: Vec<(String, bool)> = results
        .into_iter()
        .map(|r| (r.wa_id, r.on_whatsapp))
        .collect();
    state
        .store
        .save_contacts(pairs.clone(), now_secs())
        .await
        .map_err(store_failure)?;
    Ok(pairs.into_iter().collect())
}

fn answer(lookups: &[Lookup], answers: &HashMap<String, bool>) -> HttpResponse {
    let contacts: Vec<Value> = lookups.iter().map(|l| entry(l, answers)).collect();
    HttpResponse::Ok().json(payload("contacts", contacts, Meta::current_coreapp()))
}

/// `valid` with the wa_id, `invalid`, `processing` (not known yet), or `failed` (not a number).
fn entry(lookup: &Lookup, answers: &HashMap<String, bool>) -> Value {
    let Some(wa_id) = &lookup.wa_id else {
        return json!({ "input": lookup.input, "status": "failed" });
    };
    match answers.get(wa_id) {
        Some(true) => json!({ "input": lookup.input, "status": "valid", "wa_id": wa_id }),
        Some(false) => json!({ "input": lookup.input, "status": "invalid" }),
        None => json!({ "input": lookup.input, "status": "processing", "wa_id": wa_id }),
    }
}

/// The `no_wait` tail: resolve what was `processing` and deliver it by webhook.
async fn finish_in_background(state: Arc<CoreState>, lookups: Vec<Lookup>, unknown: Vec<String>) {
    let answers = match ask_network(&state, unknown).await {
        Ok(answers) => answers,
        Err(e) => {
            tracing::warn!("background contacts check failed: {e}");
            return;
        }
    };
    let resolved: Vec<Value> = lookups
        .iter()
        .filter(|l| l.wa_id.as_ref().is_some_and(|id| answers.contains_key(id)))
        .map(|l| entry(l, &answers))
        .collect();
    let callback = NewCallback {
        event_key: format!("contacts:{}", crate::domain::conversations::random_hex_32()),
        kind: CallbackKind::Contacts.as_str().to_string(),
        body: webhooks::contacts_checked(Value::Array(resolved)).to_string(),
        cloud: false,
    };
    match state.store.enqueue_callback(callback).await {
        Ok(_) => state.wake_dispatchers(),
        Err(e) => tracing::error!("queueing the contacts webhook failed: {e}"),
    }
}

fn now_secs() -> i64 {
    crate::util::now_ms() / 1000
}
