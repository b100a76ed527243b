//! The internal RPC the webapp calls. Public API calls are relayed on the same path and method
//! (the webapp has checked the token, the role and the JSON syntax); the answer is the complete
//! envelope. Coreapp-only commands live under `/rpc/`.

use crate::{account, contacts, messages, stats, CoreState};
use actix_web::{web, HttpResponse};
use serde_json::{Map, Value};
use wa_api::rpc::{GatewayStatusReply, GATEWAY_STATUS_PATH};
use wa_api::{ApiError, ErrorCode};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(GATEWAY_STATUS_PATH, web::get().to(gateway_status))
        .route("/v1/account", web::post().to(account::request_code))
        .route("/v1/account/verify", web::post().to(account::verify))
        .route("/v1/contacts", web::post().to(contacts::check))
        .route("/v1/messages", web::post().to(messages::send))
        .route("/v1/messages/{id}", web::put().to(messages::mark_read))
        .route(
            "/v1/messages/{id}",
            web::get().to(crate::message_status::get),
        )
        .route(
            crate::webhook_test::WEBHOOK_TEST_PATH,
            web::post().to(crate::webhook_test::run),
        )
        .route("/v1/stats/app", web::get().to(stats::app))
        .route(
            "/v1/services/message/gc",
            web::put().to(crate::gc::message_gc),
        )
        .route("/v1/services/media/gc", web::put().to(crate::gc::media_gc))
        .route(
            "/v1/contacts/{wa_id}/identity",
            web::get().to(crate::identity::get),
        )
        .route(
            "/v1/contacts/{wa_id}/identity",
            web::put().to(crate::identity::acknowledge),
        )
        .route("/v1/stats/db", web::get().to(stats::db))
        .route("/v1/templates", web::get().to(crate::templates::list))
        .route("/v1/support", web::get().to(crate::support::get))
        .configure(crate::settings::configure)
        .configure(crate::stickerpacks::configure)
        .configure(crate::profile::configure)
        .configure(crate::backup::configure)
        .configure(crate::certificates::configure);
}

async fn gateway_status(state: web::Data<CoreState>) -> HttpResponse {
    HttpResponse::Ok().json(GatewayStatusReply {
        gateway_status: state.gateway(),
    })
}

pub async fn unknown_command() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found_path())
}

/// The relayed JSON body as an object; an empty body is an empty object, like the webapp's rule.
pub fn body_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body).map_err(|_| ApiError::invalid_json())? {
        Value::Object(map) => Ok(map),
        _ => Ok(Map::new()),
    }
}

/// 1011, and a log line saying why, as the original did while starting.
pub fn not_ready(what: &str) -> ApiError {
    tracing::warn!("{what} refused: service not ready (not connected, or still initializing)");
    ApiError::new(ErrorCode::ServiceNotReady, "Service not ready")
}

pub fn store_failure(err: wa_store::StoreError) -> ApiError {
    tracing::error!("database error: {err}");
    ApiError::new(ErrorCode::DatabaseError, "Database operation failed")
}

/// A string field that must be present.
pub fn required_str<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Err(ApiError::missing_parameter(name)),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(ApiError::invalid_parameter(name, &other.to_string())),
    }
}
