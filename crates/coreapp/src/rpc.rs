//! The internal RPC the webapp calls (paths and bodies in `wa_api::rpc`).

use crate::state::CoreState;
use actix_web::{web, HttpResponse};
use wa_api::rpc::{GatewayStatusReply, GATEWAY_STATUS_PATH};
use wa_api::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(GATEWAY_STATUS_PATH, web::get().to(gateway_status));
}

async fn gateway_status(state: web::Data<CoreState>) -> HttpResponse {
    HttpResponse::Ok().json(GatewayStatusReply {
        gateway_status: state.gateway(),
    })
}

pub async fn unknown_command() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found_path())
}
