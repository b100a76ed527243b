//! `GET /v1/health` (spec onprem-rest §9.1): the coreapp's gateway status, single-instance shape,
//! or in a cluster every node's, nested under its key with its role (§3.4).

use crate::auth::MonitoringCaller;
use crate::cluster::fanout::{self, Report};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use wa_api::envelope::payload;
use wa_api::health::Health;
use wa_api::{ApiError, Meta};

pub async fn get(
    _caller: MonitoringCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if let Some(cluster) = &state.cluster {
        let nodes = fanout::nested(cluster, &state.coreapp, Report::Health).await?;
        return Ok(HttpResponse::Ok().json(payload("health", nodes, Meta::current_coreapp())));
    }
    let gateway_status = state.coreapp.gateway_status().await?;
    Ok(HttpResponse::Ok().json(payload(
        "health",
        Health { gateway_status },
        Meta::current_coreapp(),
    )))
}
