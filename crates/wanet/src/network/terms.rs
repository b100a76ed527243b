//! The WhatsApp Business terms of service: a business that has not accepted them (set through
//! the control API, as Meta's business settings would) cannot send; its coreapp gets 1005 for
//! every send until they are accepted.

use crate::base::errors::{access_denied, ControlError};
use crate::network::Network;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use wa_netproto::NetError;

type NetworkData = web::Data<Arc<Network>>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/control/businesses/{wa_id}/terms",
        web::post().to(set_terms),
    );
}

impl Network {
    /// Records whether business `business` accepted the terms; returns its wa_id.
    pub fn set_terms(&self, business: &str, accepted: bool) -> Result<String, ControlError> {
        let wa_id = crate::base::phone::wa_id(business).unwrap_or_else(|| business.to_string());
        let mut world = self.world();
        let entry = world.businesses.get_mut(&wa_id).ok_or_else(|| {
            ControlError::NotFound(format!("no business is registered as '{wa_id}'"))
        })?;
        entry.terms_accepted = accepted;
        tracing::info!(business = %wa_id, accepted, "terms of service");
        Ok(wa_id)
    }

    /// Refuses a send of a business that has not accepted the terms of service.
    pub fn check_terms(&self, business: &str) -> Result<(), NetError> {
        let accepted = self
            .world()
            .businesses
            .get(business)
            .is_none_or(|b| b.terms_accepted);
        if accepted {
            return Ok(());
        }
        Err(access_denied(
            "The business has not accepted the WhatsApp Business terms of service; accept them and send again.",
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Terms {
    accepted: bool,
}

/// `POST /control/businesses/{wa_id}/terms {"accepted": bool}`.
async fn set_terms(
    network: NetworkData,
    path: web::Path<String>,
    body: web::Json<Terms>,
) -> Result<HttpResponse, ControlError> {
    let accepted = body.accepted;
    let wa_id = network.set_terms(&path, accepted)?;
    Ok(HttpResponse::Ok().json(json!({ "wa_id": wa_id, "terms_accepted": accepted })))
}
