//! `GET`/`DELETE /{version}/{id}`: Graph reads any object by its id alone. The id is the
//! registered number's `phone_number_id` or a media id (uploaded with `POST /v1/media` or
//! received; in Cloud's decimal form, or the On-Prem UUID); the media's `url` is the On-Prem download path, which takes the same bearer token,
//! as Cloud's download URL does.

use super::caller::{authenticated, object_id, registered, success, unknown};
use super::phone_numbers::shown;
use crate::auth::AuthUser;
use crate::routes::media;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use wa_api::cloud::{ids, CloudError, MESSAGING_PRODUCT};
use wa_api::ApiError;

pub async fn get(
    req: HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, CloudError> {
    authenticated(caller)?;
    let id = object_id(&req);
    if let Some(number) = registered(&state).await? {
        if number.phone_number_id == id {
            return Ok(HttpResponse::Ok().json(shown(&number)));
        }
    }
    let Some(record) = media::find(&state, &ids::onprem_media_id(&id)).await? else {
        return Err(unknown(&req, &id));
    };
    let info = req.connection_info();
    let url = format!("{}://{}/v1/media/{}", info.scheme(), info.host(), record.id);
    Ok(HttpResponse::Ok().json(json!({
        "messaging_product": MESSAGING_PRODUCT,
        "url": url,
        "mime_type": record.mime_type,
        "sha256": record.sha256,
        "file_size": record.size_bytes,
        "id": ids::cloud_media_id(&record.id),
    })))
}

pub async fn delete(
    req: HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, CloudError> {
    authenticated(caller)?;
    let id = object_id(&req);
    let media_id = ids::onprem_media_id(&id);
    if media::find(&state, &media_id).await?.is_none() {
        return Err(unknown(&req, &id));
    }
    media::remove(&state, &media_id).await?;
    Ok(success())
}
