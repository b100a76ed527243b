//! `/v1/settings/profile/photo` (spec onprem-rest §8.7): raw image bytes in and out. The coreapp
//! stores the photo and pushes it to the network; the bytes travel base64-encoded on the internal
//! RPC, whose answers are JSON. The other profile endpoints are plain relays (see `mod.rs`).

use crate::auth::AuthUser;
use crate::body::read_body;
use crate::routes::forward::relay;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde_json::json;
use wa_api::envelope::payload;
use wa_api::rpc::Endpoint;
use wa_api::{ApiError, ErrorCode, Meta};

/// `MAX_PROFILE_PHOTO_SIZE_BYTES`: the documented 5 MB.
pub const MAX_PROFILE_PHOTO_SIZE_BYTES: usize = 5 * 1024 * 1024;

pub async fn get_photo(
    req: HttpRequest,
    caller: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let answer = state.call(Endpoint::ProfilePhotoGet, None).await?;
    if answer.status != 200 {
        return Ok(relay(answer));
    }
    let bytes = answer
        .body
        .get("photo")
        .and_then(serde_json::Value::as_str)
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .ok_or_else(|| ApiError::internal("The coreapp sent an unreadable photo"))?;
    if wants_link(&req) {
        return Ok(HttpResponse::Ok().json(payload(
            "settings",
            json!({ "profile": { "photo": { "link": own_link(&req) } } }),
            Meta::current_webapp(),
        )));
    }
    Ok(HttpResponse::Ok()
        .content_type(image_type(&bytes))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=profilePicture.jpg",
        ))
        .body(bytes))
}

pub async fn set_photo(
    caller: AuthUser,
    state: web::Data<AppState>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    // A photo of exactly the maximum is already too large, as in the original.
    let bytes = read_body(&mut body, MAX_PROFILE_PHOTO_SIZE_BYTES - 1, || {
        ApiError::new(
            ErrorCode::ParameterValueInvalid,
            format!("Photo size too large. Max allowed size: {MAX_PROFILE_PHOTO_SIZE_BYTES} bytes"),
        )
    })
    .await?;
    if bytes.is_empty() {
        return Err(ApiError::new(
            ErrorCode::RequiredParameterMissing,
            "No data found",
        ));
    }
    check_photo(&bytes)?;
    let photo = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let answer = state
        .call(Endpoint::ProfilePhotoSet, Some(&json!({ "photo": photo })))
        .await?;
    Ok(relay(answer))
}

pub async fn delete_photo(
    caller: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let answer = state.call(Endpoint::ProfilePhotoDelete, None).await?;
    Ok(relay(answer))
}

/// A photo must be a JPEG or PNG image with a size (WhatsApp shows nothing else); its header is
/// read, whatever `Content-Type` the upload claimed.
fn check_photo(bytes: &[u8]) -> Result<(), ApiError> {
    let not_an_image = || {
        ApiError::new(
            ErrorCode::ParameterValueInvalid,
            "The photo must be a JPEG or PNG image",
        )
    };
    match imagesize::image_type(bytes).map_err(|_| not_an_image())? {
        imagesize::ImageType::Jpeg | imagesize::ImageType::Png => {}
        _ => return Err(not_an_image()),
    }
    let size = imagesize::blob_size(bytes).map_err(|_| not_an_image())?;
    if size.width == 0 || size.height == 0 {
        return Err(not_an_image());
    }
    Ok(())
}

fn wants_link(req: &HttpRequest) -> bool {
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .is_ok_and(|q| q.get("format").is_some_and(|f| f == "link"))
}

/// The link is this endpoint itself (the original pointed at WhatsApp's CDN, which a
/// self-contained installation does not have); fetching it needs the same token. Always https:
/// the webapp serves nothing else, and behind the PROXY protocol actix's idea of the scheme is
/// its default.
fn own_link(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("https://{}{}", info.host(), req.path())
}

/// JPEG unless the bytes say PNG (uploads may be either).
fn image_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else {
        "image/jpeg"
    }
}

/// A restore carries the whole backup (with the photo, several MB): more than the usual JSON
/// body limit, so this route reads its own body.
const MAX_RESTORE_BODY_BYTES: usize = 16 * 1024 * 1024;

/// `POST /v1/settings/restore` (spec §8.10), admin only.
pub async fn restore(
    req: HttpRequest,
    caller: AuthUser,
    state: web::Data<AppState>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let bytes = read_body(&mut body, MAX_RESTORE_BODY_BYTES, || {
        crate::body::too_large(MAX_RESTORE_BODY_BYTES)
    })
    .await?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let params = crate::body::JsonParams::parse(content_type, &bytes)?;
    crate::routes::forward::to_coreapp(&req, &state, Some(params)).await
}
