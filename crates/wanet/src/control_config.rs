//! `GET/PATCH /control/config`: the behaviour options of the running network, and the control
//! API's promise that a change it answered is durable.

use crate::config::{Rules, RuntimeConfig};
use crate::errors::ControlError;
use crate::network::Network;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use serde_json::Value;
use std::sync::Arc;

type NetworkData = web::Data<Arc<Network>>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/control/config", web::get().to(get_config))
        .route("/control/config", web::patch().to(patch_config));
}

async fn get_config(network: NetworkData) -> HttpResponse {
    HttpResponse::Ok().json(network.rules().source)
}

/// Takes any subset of the fields `GET` shows; the others keep their value. Applies at once:
/// to messages accepted from now on (a phone already waiting keeps its latency).
async fn patch_config(
    network: NetworkData,
    body: web::Json<Value>,
) -> Result<HttpResponse, ControlError> {
    let Value::Object(changes) = body.into_inner() else {
        return Err(ControlError::BadRequest(
            "the body must be a JSON object".into(),
        ));
    };
    let mut merged = serde_json::to_value(network.rules().source)
        .map_err(|e| ControlError::BadRequest(e.to_string()))?;
    if let Value::Object(current) = &mut merged {
        current.extend(changes);
    }
    let config: RuntimeConfig =
        serde_json::from_value(merged).map_err(|e| ControlError::BadRequest(e.to_string()))?;
    check(&config)?;
    let rules = Rules::from_runtime(config);
    network.set_rules(rules);
    tracing::info!(?config, "network options changed");
    Ok(HttpResponse::Ok().json(rules.source))
}

fn check(config: &RuntimeConfig) -> Result<(), ControlError> {
    if !(0.0..=1.0).contains(&config.read_probability) {
        return Err(ControlError::BadRequest(
            "read_probability must be between 0 and 1".into(),
        ));
    }
    if !(config.time_scale.is_finite() && config.time_scale > 0.0) {
        return Err(ControlError::BadRequest(
            "time_scale must be a positive number".into(),
        ));
    }
    Ok(())
}

/// Every control call that may change something answers only once the change is written to
/// the state store, so a test (or a person) that saw the answer can restart the network.
pub async fn durable(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let network = req.app_data::<NetworkData>().cloned();
    let changes = req.method() != Method::GET;
    let response = next.call(req).await?;
    if let Some(network) = network.filter(|_| changes) {
        network.persist.flushed().await;
    }
    Ok(response)
}
