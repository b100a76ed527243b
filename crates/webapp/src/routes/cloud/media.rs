//! `POST /{version}/{phone-number-id}/media`: Cloud's upload, a `multipart/form-data` body with
//! a `file` part (and `type`, `messaging_product` fields), stored like `POST /v1/media`. The form
//! is parsed by `actix-multipart`: text fields are read whole (bounded), the file part is handed
//! to the media store chunk by chunk, so a 100 MB upload is never held in memory.

use super::caller::{authenticated, phone_number};
use crate::auth::AuthUser;
use crate::routes::media::{store_upload, ChunkSource};
use crate::state::AppState;
use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::error::PayloadError;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::{Stream, StreamExt};
use serde_json::json;
use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use wa_api::cloud::{ids, CloudError};
use wa_api::ApiError;

/// Longest text field (`type`, `messaging_product`, anything else sent before the file).
const MAX_FIELD_BYTES: usize = 4 * 1024;

pub async fn upload(
    req: HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, CloudError> {
    let body = Rc::new(RefCell::new(payload));
    let outcome = receive(&req, caller, &state, SharedPayload(body.clone())).await;
    // Read what the client still sends, so it gets the answer instead of a reset connection.
    // The parser (and its clone of the body) is gone once `receive` is over.
    if let Ok(body) = Rc::try_unwrap(body) {
        let mut payload = body.into_inner();
        while let Some(Ok(_)) = payload.next().await {}
    }
    let id = ids::cloud_media_id(&outcome?);
    Ok(HttpResponse::Ok().json(json!({ "id": id })))
}

/// The request body, shared: the parser reads it, and what it leaves is drained afterwards.
struct SharedPayload(Rc<RefCell<web::Payload>>);

impl Stream for SharedPayload {
    type Item = Result<web::Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_next(cx)
    }
}

async fn receive(
    req: &HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: &AppState,
    payload: SharedPayload,
) -> Result<String, CloudError> {
    authenticated(caller)?;
    phone_number(state, req).await?;
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<actix_web::mime::Mime>().ok())
        .is_some_and(|m| m.essence_str() == "multipart/form-data");
    if !is_form {
        return Err(not_a_form());
    }
    read_form(state, Multipart::new(req.headers(), payload)).await
}

fn not_a_form() -> CloudError {
    CloudError::invalid_parameter("The body must be multipart/form-data.")
}

fn malformed(e: MultipartError) -> CloudError {
    match e {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible
        | MultipartError::BoundaryMissing => not_a_form(),
        e => CloudError::invalid_parameter(format!("The multipart body is malformed: {e}.")),
    }
}

/// Stores the `file` part; its type is the part's own, else the `type` field sent before it.
async fn read_form(state: &AppState, mut form: Multipart) -> Result<String, CloudError> {
    let mut declared_type = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(malformed)?;
        match field.name().unwrap_or_default() {
            "file" => {
                let mime = field
                    .content_type()
                    .map(|mime| mime.to_string())
                    .filter(|mime| mime != "application/octet-stream")
                    .or(declared_type)
                    .ok_or_else(|| {
                        CloudError::invalid_parameter("The parameter type is required.")
                    })?;
                return Ok(store_upload(state, mime, &mut field).await?);
            }
            "type" => declared_type = Some(text(&mut field).await?.trim().to_string()),
            _ => {
                text(&mut field).await?;
            }
        }
    }
    Err(CloudError::invalid_parameter(
        "The parameter file is required.",
    ))
}

/// A text field's value, at most [`MAX_FIELD_BYTES`].
async fn text(field: &mut Field) -> Result<String, CloudError> {
    let mut value = Vec::new();
    while let Some(chunk) = field.next().await {
        value.extend_from_slice(&chunk.map_err(malformed)?);
        if value.len() > MAX_FIELD_BYTES {
            return Err(CloudError::invalid_parameter(
                "The multipart body is malformed: a text field is too long.",
            ));
        }
    }
    Ok(String::from_utf8_lossy(&value).into_owned())
}

/// The file part's bytes, as an upload reads them.
impl ChunkSource for Field {
    async fn next_chunk(&mut self) -> Result<Option<web::Bytes>, ApiError> {
        match self.next().await {
            None => Ok(None),
            Some(Ok(chunk)) => Ok(Some(chunk)),
            Some(Err(e)) => Err(ApiError::new(
                wa_api::ErrorCode::RequestNotValid,
                format!("The multipart body is malformed: {e}."),
            )),
        }
    }
}
