//! `GET/POST /control/latency`, `DELETE /control/latency/{prefix}`: the `delivered` delay of a
//! range of recipients (a cross-border route, a slow carrier), under the `fixed` and `realistic`
//! latency presets (latency.rs).

use super::actions::LatencyRule;
use crate::base::errors::ControlError;
use crate::network::Network;
use actix_web::{web, HttpResponse};
use serde_json::json;
use std::sync::Arc;

type NetworkData = web::Data<Arc<Network>>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/control/latency", web::get().to(list))
        .route("/control/latency", web::post().to(set))
        .route("/control/latency/{prefix}", web::delete().to(remove));
}

async fn list(network: NetworkData) -> HttpResponse {
    let rules = network.world().latency_rules.list();
    HttpResponse::Ok().json(json!({ "rules": rules }))
}

async fn set(
    network: NetworkData,
    body: web::Json<LatencyRule>,
) -> Result<HttpResponse, ControlError> {
    let (min_ms, max_ms) = (body.min_ms, body.max_ms);
    let prefix = super::actions::set_latency_rule(&network, body.into_inner())?;
    Ok(HttpResponse::Created().json(json!({"prefix": prefix, "min_ms": min_ms, "max_ms": max_ms})))
}

async fn remove(
    network: NetworkData,
    path: web::Path<String>,
) -> Result<HttpResponse, ControlError> {
    let prefix = path.trim_start_matches('+');
    if network.world().latency_rules.remove(prefix) {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ControlError::NotFound(format!(
            "no latency rule for prefix '{prefix}'"
        )))
    }
}
