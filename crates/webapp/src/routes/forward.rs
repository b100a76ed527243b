//! Calls the coreapp answers: the webapp checks the caller, the role and the JSON syntax, then
//! relays the request and the coreapp's answer unchanged.

use crate::body::JsonParams;
use crate::coreapp::RELAYED_IDEMPOTENCY_KEY;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use wa_api::rpc::Method;
use wa_api::ApiError;

/// Relays `req` (method, path, query, the parsed JSON body and an `Idempotency-Key`) to the
/// coreapp.
pub async fn to_coreapp(
    req: &HttpRequest,
    state: &AppState,
    params: Option<JsonParams>,
) -> Result<HttpResponse, ApiError> {
    let key = req
        .headers()
        .get(wa_api::idempotency::IDEMPOTENCY_KEY_HEADER)
        .and_then(|value| reqwest::header::HeaderValue::from_bytes(value.as_bytes()).ok());
    RELAYED_IDEMPOTENCY_KEY
        .scope(key, relay_to_coreapp(req, state, params))
        .await
}

async fn relay_to_coreapp(
    req: &HttpRequest,
    state: &AppState,
    params: Option<JsonParams>,
) -> Result<HttpResponse, ApiError> {
    let path_and_query = match req.uri().query() {
        Some(query) => format!("{}?{query}", req.path()),
        None => req.path().to_string(),
    };
    let pattern = req
        .match_pattern()
        .unwrap_or_else(|| req.path().to_string());
    let call = CoreappCall {
        method: route_method(req),
        path_and_query: &path_and_query,
        pattern: &pattern,
    };
    let answer = call_coreapp(state, call, params.map(JsonParams::into_value)).await?;
    Ok(relay(answer))
}

/// One call of a public endpoint of the coreapp: its method, the path with the query, and the
/// route template that picks the node of a cluster.
pub struct CoreappCall<'a> {
    pub method: Method,
    pub path_and_query: &'a str,
    pub pattern: &'a str,
}

/// Calls the coreapp, or in a cluster the node that must answer, and returns its answer as it
/// is. Relayed calls and the Cloud API's translated calls both go through here.
pub async fn call_coreapp(
    state: &AppState,
    call: CoreappCall<'_>,
    body: Option<serde_json::Value>,
) -> Result<crate::coreapp::Forwarded, ApiError> {
    let method = crate::coreapp::http_method(call.method);
    match &state.cluster {
        None => {
            state
                .coreapp
                .forward(method, call.path_and_query, body.as_ref())
                .await
        }
        Some(cluster) => {
            let target = crate::cluster::target_of(call.method, call.pattern, body.as_ref());
            cluster
                .forward(
                    &state.coreapp,
                    target,
                    method,
                    call.path_and_query,
                    body.as_ref(),
                )
                .await
        }
    }
}

/// The request's method as the route table names it.
fn route_method(req: &HttpRequest) -> Method {
    use actix_web::http::Method as M;
    match *req.method() {
        M::POST => Method::Post,
        M::PUT => Method::Put,
        M::PATCH => Method::Patch,
        M::DELETE => Method::Delete,
        _ => Method::Get,
    }
}

/// The coreapp's answer, status and JSON body unchanged.
pub fn relay(answer: crate::coreapp::Forwarded) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).json(answer.body)
}
