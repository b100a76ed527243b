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
    let (content_type, file_name) = served_as(&bytes);
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename={file_name}"),
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

/// The content type and file name a stored photo is served with, from its own header: uploads
/// are JPEG or PNG; bytes stored before uploads were checked are served as what they are, not
/// as an image.
fn served_as(bytes: &[u8]) -> (&'static str, &'static str) {
    match imagesize::image_type(bytes) {
        Ok(imagesize::ImageType::Png) => ("image/png", "profilePicture.png"),
        Ok(imagesize::ImageType::Jpeg) => ("image/jpeg", "profilePicture.jpg"),
        _ => ("application/octet-stream", "profilePicture"),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG's signature and header chunk: what the check reads.
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut file = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        file.extend_from_slice(&width.to_be_bytes());
        file.extend_from_slice(&height.to_be_bytes());
        file.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        file
    }

    /// A JPEG's start, JFIF segment and baseline frame header.
    fn jpeg_header(width: u16, height: u16) -> Vec<u8> {
        let mut file = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        file.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        file.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 8]);
        file.extend_from_slice(&height.to_be_bytes());
        file.extend_from_slice(&width.to_be_bytes());
        file.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9]);
        file
    }

    #[test]
    fn only_jpeg_and_png_with_a_size_pass() {
        assert!(check_photo(&png_header(640, 640)).is_ok());
        assert!(check_photo(&jpeg_header(640, 480)).is_ok());
        let gif = b"GIF89a\x80\x02\x80\x02\0\0\0".to_vec();
        let webp = b"RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0".to_vec();
        let truncated_jpeg = jpeg_header(640, 480)[..12].to_vec();
        for bad in [
            gif,
            webp,
            truncated_jpeg,
            png_header(0, 640),
            jpeg_header(640, 0),
            b"\x89PNG\r\n\x1a\n".to_vec(),
            b"{\"photo\": 1}".to_vec(),
        ] {
            let err = check_photo(&bad).unwrap_err();
            assert_eq!((err.status, err.first_code()), (400, 1009), "{bad:?}");
        }
    }

    #[test]
    fn photos_are_served_with_their_own_type() {
        assert_eq!(
            served_as(&png_header(4, 4)),
            ("image/png", "profilePicture.png")
        );
        assert_eq!(
            served_as(&jpeg_header(4, 4)),
            ("image/jpeg", "profilePicture.jpg")
        );
        assert_eq!(
            served_as(b"stored before uploads were checked"),
            ("application/octet-stream", "profilePicture")
        );
    }
}
