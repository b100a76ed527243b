//! `GET/PATCH /control/config`: the behaviour options of the running network, and the control
//! API's promise that a change it answered is durable.

use crate::base::errors::ControlError;
use crate::config::{Rules, RuntimeConfig, RuntimeConfigChange};
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
    let Value::Object(_) = body.0 else {
        return Err(ControlError::BadRequest(
            "the body must be a JSON object".into(),
        ));
    };
    let change: RuntimeConfigChange = serde_json::from_value(body.into_inner())
        .map_err(|e| ControlError::BadRequest(e.to_string()))?;
    let config = apply(&network, &change)?;
    Ok(HttpResponse::Ok().json(config))
}

/// Applies a change of the run-time options (the control API's and a scenario's `[config]`);
/// returns the options now in force.
pub fn apply(
    network: &Network,
    change: &RuntimeConfigChange,
) -> Result<RuntimeConfig, ControlError> {
    let config = change
        .apply_to(network.rules().source)
        .map_err(ControlError::BadRequest)?;
    network.set_rules(Rules::from_runtime(config));
    tracing::info!(?config, "network options changed");
    Ok(config)
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
