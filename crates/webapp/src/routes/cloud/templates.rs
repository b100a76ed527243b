//! `GET /{version}/{waba-id}/message_templates`: the templates the core knows (its
//! `GET /v1/templates`), one entry per translation as Cloud lists them, optionally filtered by
//! `name`. Templates are created and deleted in the simulated WhatsApp Manager (wanet's control
//! API), so the Cloud writes are not served yet.

use super::caller::{authenticated, business_account};
use super::messages::{call, succeeded};
use crate::auth::AuthUser;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
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
    let listed = succeeded(call(&state, Endpoint::Templates, None).await?)?;
    let data: Vec<Value> = listed["templates"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
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
