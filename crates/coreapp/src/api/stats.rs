//! `GET /v1/stats/app` and `GET /v1/stats/db` (the webapp relays both and turns them into
//! Prometheus text when asked), and the middleware counting every internal call.

use crate::state::CoreState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Instant;
use wa_api::envelope::payload;
use wa_api::{ApiError, Meta};
use wa_common::metrics as m;

/// `result` of an API call that succeeded.
const ENDPOINT_OK: &str = "ok";

/// `GET /v1/stats/app`.
pub async fn app(state: web::Data<CoreState>) -> HttpResponse {
    let stats = state.stats.app_json(&state.store);
    HttpResponse::Ok().json(payload(
        "stats",
        json!({ "app": stats }),
        Meta::current_coreapp(),
    ))
}

/// `GET /v1/stats/db`: counted now, so it can be slow on a large database (as documented).
pub async fn db(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    let counts = state
        .store
        .db_counts()
        .await
        .map_err(crate::util::failure::store_failure)?;
    let mut stats = Map::new();
    let mut put = |def: &m::MetricDef, data: Vec<Value>| {
        stats.insert(def.name.to_string(), m::stat_json(def, data));
    };
    put(
        &m::DB_CONTACTS,
        vec![
            m::sample_json(
                &[("type", m::CONTACT_NOT_ON_WHATSAPP)],
                counts.contacts_not_on_whatsapp,
            ),
            m::sample_json(
                &[("type", m::CONTACT_ON_WHATSAPP)],
                counts.contacts_on_whatsapp,
            ),
        ],
    );
    put(
        &m::DB_MESSAGE_RECEIPTS,
        vec![m::sample_json(&[], counts.message_receipts)],
    );
    put(
        &m::DB_MESSAGES,
        counts
            .messages_by_type
            .iter()
            .map(|(msg_type, n)| m::sample_json(&[("type", msg_type)], *n))
            .collect(),
    );
    put(
        &m::DB_PENDING_CALLBACKS,
        vec![m::sample_json(&[], counts.pending_callbacks)],
    );
    put(
        &m::DB_PENDING_MESSAGES,
        vec![m::sample_json(&[], counts.pending_messages)],
    );
    Ok(HttpResponse::Ok().json(payload(
        "stats",
        json!({ "db": stats }),
        Meta::current_coreapp(),
    )))
}

/// Counts every call of the RPC by endpoint (method and route template) and result.
pub async fn count_endpoint_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let stats = req
        .app_data::<web::Data<CoreState>>()
        .map(|state| Arc::clone(&state.stats));
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.call(req).await?;
    if let Some(stats) = stats {
        let endpoint = m::request_label(&method, response.request().match_pattern().as_deref());
        stats.endpoint_request(&endpoint, &result_label(&response), started.elapsed());
    }
    Ok(response)
}

/// `ok`, else the first error code of the answer, else its HTTP status.
fn result_label<B>(response: &ServiceResponse<B>) -> String {
    if response.status().is_success() {
        return ENDPOINT_OK.to_string();
    }
    response
        .response()
        .error()
        .and_then(|error| error.as_error::<ApiError>())
        .map_or_else(
            || response.status().as_u16().to_string(),
            |error| error.first_code().to_string(),
        )
}
