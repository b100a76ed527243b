//! `GET /v1/templates` is an EXTENSION (not On-Prem): it lists the message templates the coreapp
//! knows, refreshed when stale.

use crate::domain::templates::refresh;
use crate::state::CoreState;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use std::time::Duration;
use wa_api::envelope::payload;
use wa_api::{ApiError, Meta};

/// `GET /v1/templates` (EXTENSION): the templates the coreapp knows, refreshed when stale.
pub async fn list(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    let max_age = Duration::from_secs(state.config.template_refresh_secs);
    if state.templates.is_stale(max_age) {
        if let Err(e) = refresh(&state).await {
            tracing::debug!("template list served from the cache: {e}");
        }
    }
    let templates: Vec<Value> = state
        .templates
        .snapshot()
        .into_iter()
        .map(|t| {
            json!({
                "namespace": t.namespace, "name": t.name, "language": t.language,
                "status": t.status, "category": t.category, "components": t.components,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(payload("templates", templates, Meta::current_coreapp())))
}
