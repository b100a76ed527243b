//! `/{version}/{waba-id}/message_templates`. `GET`: the templates the core knows (its
//! `GET /v1/templates`), one entry per translation as Cloud lists them, optionally filtered by
//! `name`. `POST` submits a translation for review and `DELETE` removes a template (every
//! translation by `name`, or the one `hsm_id` names): the network keeps templates, as WhatsApp
//! Manager does, and the coreapp passes the change on (`/rpc/templates`). Writes are for
//! administrators, as On-Prem's settings are.

use super::caller::{admin_on_account, authenticated, body_of, business_account, success};
use super::messages::{call, succeeded};
use crate::auth::AuthUser;
use crate::body::JsonParams;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use wa_api::cloud::templates::{submission, TemplateDeletion};
use wa_api::cloud::{ids, CloudError};
use wa_api::rpc::Endpoint;
use wa_api::ApiError;

#[derive(Debug, Deserialize)]
pub struct Filter {
    name: Option<String>,
}

pub async fn list(
    req: HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: web::Data<AppState>,
    filter: Result<web::Query<Filter>, actix_web::Error>,
) -> Result<HttpResponse, CloudError> {
    authenticated(caller)?;
    business_account(&state, &req).await?;
    let name = filter
        .map_err(|_| CloudError::invalid_parameter("Invalid query parameters."))?
        .into_inner()
        .name;
    let data: Vec<Value> = known(&state)
        .await?
        .iter()
        .filter(|t| name.as_deref().is_none_or(|name| t["name"] == name))
        .map(shown)
        .collect();
    let count = data.len();
    Ok(HttpResponse::Ok().json(json!({
        "data": data,
        // What `?summary=...` asks for; clients such as pywa read it whether or not they asked.
        "summary": {
            "total_count": count,
            "message_template_count": count,
            "message_template_limit": MESSAGE_TEMPLATE_LIMIT,
            "are_translations_complete": true,
        },
    })))
}

/// Meta's published limit of templates per business account (of a business not yet verified).
const MESSAGE_TEMPLATE_LIMIT: usize = 250;

/// One template in the Cloud shape; the core's `components` are already Cloud's.
fn shown(template: &Value) -> Value {
    let text = |field: &str| template[field].as_str().unwrap_or_default().to_string();
    json!({
        "id": ids::template_id(&text("namespace"), &text("name"), &text("language")),
        "name": template["name"],
        "language": template["language"],
        "status": template["status"],
        "category": template["category"],
        "components": template["components"],
        // The core's templates number their variables ({{1}}), never name them.
        "parameter_format": "POSITIONAL",
    })
}

/// The templates the core knows, as `GET /v1/templates` lists them.
async fn known(state: &AppState) -> Result<Vec<Value>, CloudError> {
    let listed = succeeded(call(state, Endpoint::Templates, None).await?)?;
    Ok(match listed {
        Value::Object(mut fields) => match fields.remove("templates") {
            Some(Value::Array(templates)) => templates,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    })
}

/// `POST /{waba-id}/message_templates`: answers `{"id", "status", "category"}` as Cloud does;
/// the status is `PENDING` until the network's review approves it.
pub async fn create(
    req: HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: web::Data<AppState>,
    params: Result<JsonParams, ApiError>,
) -> Result<HttpResponse, CloudError> {
    admin_on_account(caller, &state, &req).await?;
    let submitted = submission(&body_of(params)?)?;
    let body = serde_json::to_value(&submitted)
        .map_err(|e| ApiError::internal(format!("Cannot encode the template: {e}")))?;
    let created = succeeded(call(&state, Endpoint::TemplateCreate, Some(body)).await?)?;
    let text = |field: &str| created[field].as_str().unwrap_or_default().to_string();
    Ok(HttpResponse::Ok().json(json!({
        "id": ids::template_id(&text("namespace"), &text("name"), &text("language")),
        "status": created["status"],
        "category": created["category"],
    })))
}

#[derive(Debug, Deserialize)]
pub struct Deletion {
    name: Option<String>,
    hsm_id: Option<String>,
}

/// `DELETE /{waba-id}/message_templates?name=...[&hsm_id=...]`: every translation of `name`, or
/// only the one whose id is `hsm_id`. A name (or id) that names no template is 100.
pub async fn delete(
    req: HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: web::Data<AppState>,
    query: Result<web::Query<Deletion>, actix_web::Error>,
) -> Result<HttpResponse, CloudError> {
    admin_on_account(caller, &state, &req).await?;
    let query = query
        .map_err(|_| CloudError::invalid_parameter("Invalid query parameters."))?
        .into_inner();
    let name = query
        .name
        .filter(|name| !name.is_empty())
        .ok_or_else(|| CloudError::invalid_parameter("The parameter name is required."))?;
    let language = match query.hsm_id {
        None => None,
        Some(hsm_id) => Some(language_of(&state, &name, &hsm_id).await?),
    };
    let body = serde_json::to_value(TemplateDeletion { name, language })
        .map_err(|e| ApiError::internal(format!("Cannot encode the deletion: {e}")))?;
    succeeded(call(&state, Endpoint::TemplateDelete, Some(body)).await?)?;
    Ok(success())
}

/// The language of the translation of `name` whose Cloud id is `hsm_id`.
async fn language_of(state: &AppState, name: &str, hsm_id: &str) -> Result<String, CloudError> {
    known(state)
        .await?
        .iter()
        .filter(|t| t["name"] == name)
        .find(|t| shown(t)["id"] == hsm_id)
        .and_then(|t| t["language"].as_str().map(str::to_string))
        .ok_or_else(|| {
            CloudError::invalid_parameter(format!("No template '{name}' has the id '{hsm_id}'"))
        })
}
