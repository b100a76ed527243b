//! `POST /{version}/{phone-number-id}/media`: Cloud's upload, a `multipart/form-data` body with
//! a `file` part (and `type`, `messaging_product` fields), stored like `POST /v1/media`.

use super::caller::{authenticated, phone_number};
use super::multipart::{boundary_of, Multipart};
use crate::auth::AuthUser;
use crate::routes::media::store_upload;
use crate::state::AppState;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::json;
use wa_api::cloud::CloudError;
use wa_api::ApiError;

pub async fn upload(
    req: HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: web::Data<AppState>,
    mut payload: web::Payload,
) -> Result<HttpResponse, CloudError> {
    let outcome = receive(&req, caller, &state, &mut payload).await;
    // Read what the client still sends, so it gets the answer instead of a reset connection.
    while let Some(Ok(_)) = payload.next().await {}
    Ok(HttpResponse::Ok().json(json!({ "id": outcome? })))
}

async fn receive(
    req: &HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: &AppState,
    payload: &mut web::Payload,
) -> Result<String, CloudError> {
    authenticated(caller)?;
    phone_number(state, req).await?;
    let boundary = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(boundary_of)
        .ok_or_else(|| CloudError::invalid_parameter("The body must be multipart/form-data."))?;
    read_form(state, &mut Multipart::new(payload, &boundary)).await
}

/// Stores the `file` part; its type is the part's own, else the `type` field sent before it.
async fn read_form(state: &AppState, form: &mut Multipart<'_>) -> Result<String, CloudError> {
    let mut declared_type = None;
    while let Some(part) = form.next_part().await? {
        match part.name.as_str() {
            "file" => {
                let mime = part
                    .content_type
                    .filter(|mime| mime != "application/octet-stream")
                    .or(declared_type)
                    .ok_or_else(|| {
                        CloudError::invalid_parameter("The parameter type is required.")
                    })?;
                return Ok(store_upload(state, mime, form).await?);
            }
            "type" => declared_type = Some(form.text().await?.trim().to_string()),
            _ => {
                form.text().await?;
            }
        }
    }
    Err(CloudError::invalid_parameter(
        "The parameter file is required.",
    ))
}
