//! `GET /v1/templates` is an EXTENSION (not On-Prem): it lists the message templates the coreapp
//! knows, refreshed when stale. `/rpc/templates` submits and deletes templates for the Cloud
//! API's `/{waba-id}/message_templates`: the network (WhatsApp Manager) keeps them, so each call
//! goes over the session and the cache is fetched again after it succeeds.

use crate::domain::templates::refresh;
use crate::state::CoreState;
use crate::util::body::body_object;
use crate::util::failure::not_ready;
use actix_web::{web, HttpResponse};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::time::Duration;
use wa_api::cloud::templates::{TemplateDeletion, TemplateSubmission};
use wa_api::envelope::payload;
use wa_api::{ApiError, ErrorCode, Meta};
use wa_netproto::{Request, Response};

/// `GET /v1/templates` (EXTENSION): the templates the coreapp knows, refreshed when stale, or
/// while a template this coreapp submitted awaits review (at most once a second).
pub async fn list(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    let max_age = Duration::from_secs(state.config.template_refresh_secs);
    let stale = state.templates.is_stale(max_age)
        || (state.templates.under_review() && state.templates.may_refresh_on_miss());
    if stale {
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

/// `POST /rpc/templates` with a [`TemplateSubmission`]: answers the template as the network
/// kept it (`namespace`, `name`, `language`, `status`, `category`, `components`); the network's
/// refusals keep their On-Prem codes (1009 invalid, 1004 already exists).
pub async fn create(
    state: web::Data<CoreState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let submitted: TemplateSubmission = parsed(&body)?;
    let request = Request::CreateTemplate {
        name: submitted.name,
        language: submitted.language,
        category: submitted.category,
        components: submitted.components,
    };
    match ask(&state, request).await? {
        Response::TemplateCreated { template } => {
            refresh_after_change(&state).await;
            state
                .templates
                .note_submitted(&template.name, &template.language);
            Ok(HttpResponse::Created().json(template))
        }
        other => Err(unexpected(&other)),
    }
}

/// `DELETE /rpc/templates` with a [`TemplateDeletion`]: answers `{"deleted": <translations>}`;
/// 1006 when the network has no such template.
pub async fn delete(
    state: web::Data<CoreState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let deletion: TemplateDeletion = parsed(&body)?;
    let request = Request::DeleteTemplate {
        name: deletion.name,
        language: deletion.language,
    };
    match ask(&state, request).await? {
        Response::TemplatesDeleted { count } => {
            refresh_after_change(&state).await;
            Ok(HttpResponse::Ok().json(json!({ "deleted": count })))
        }
        other => Err(unexpected(&other)),
    }
}

fn parsed<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_value(body_object(body)?.into())
        .map_err(|e| ApiError::new(ErrorCode::ParameterValueInvalid, e.to_string()))
}

/// The network's answer; 1011 without a session, its own code when it refuses.
async fn ask(state: &CoreState, request: Request) -> Result<Response, ApiError> {
    let session = state
        .session()
        .filter(|_| state.is_ready())
        .ok_or_else(|| not_ready("template change"))?;
    session.request(request).await.map_err(ApiError::from)
}

/// The change is done on the network whatever happens here: a failed refresh only leaves the
/// cache to its usual freshness rules.
async fn refresh_after_change(state: &CoreState) {
    if let Err(e) = refresh(state).await {
        tracing::warn!("refreshing message templates after a change failed: {e}");
    }
}

fn unexpected(answer: &Response) -> ApiError {
    tracing::error!("unexpected answer to a template change: {answer:?}");
    ApiError::internal("Unexpected answer from the network")
}
