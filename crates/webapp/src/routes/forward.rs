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
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes())
        .map_err(|_| ApiError::method_not_allowed())?;
    let path_and_query = match req.uri().query() {
        Some(query) => format!("{}?{query}", req.path()),
        None => req.path().to_string(),
    };
    let body = params.map(JsonParams::into_value);
    let answer = match &state.cluster {
        None => {
            state
                .coreapp
                .forward(method, &path_and_query, body.as_ref())
                .await?
        }
        Some(cluster) => {
            let pattern = req
                .match_pattern()
                .unwrap_or_else(|| req.path().to_string());
            let target = crate::cluster::target_of(route_method(req), &pattern, body.as_ref());
            cluster
                .forward(
                    &state.coreapp,
                    target,
                    method,
                    &path_and_query,
                    body.as_ref(),
                )
                .await?
        }
    };
    Ok(relay(answer))
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
