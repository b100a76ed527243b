//! `/v1/media` (spec onprem-messaging §5): the webapp writes uploads straight to the shared media
//! volume, as the original's webapp did, and records them in the database; downloads are streamed
//! from the volume. Nothing is held in memory whole: a 100 MB upload passes through in chunks.

use crate::auth::AuthUser;
use crate::state::AppState;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::json;
use wa_api::envelope::{meta_only, payload};
use wa_api::keys::MEDIA_PROVIDERS;
use wa_api::{ApiError, ErrorCode, Meta};
use wa_common::media::{self, MediaKind, MediaWriter, MAX_UPLOAD_BYTES};
use wa_store::{MediaRecord, StoreError};

/// `POST /v1/media`: the raw body is the file, its `Content-Type` the media's MIME type.
pub async fn upload(
    req: HttpRequest,
    _caller: AuthUser,
    state: web::Data<AppState>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let outcome = receive(&req, &state, &mut body).await;
    if outcome.is_err() {
        // Read what the client still sends, so it gets the answer instead of a reset connection.
        while let Some(Ok(_)) = body.next().await {}
    }
    let id = outcome?;
    Ok(HttpResponse::Created().json(payload(
        "media",
        [json!({ "id": id })],
        Meta::current_webapp(),
    )))
}

async fn receive(
    req: &HttpRequest,
    state: &AppState,
    body: &mut web::Payload,
) -> Result<String, ApiError> {
    store_upload(state, content_type(req)?, body).await
}

/// Where the bytes of an upload come from: the raw body here, a part of a multipart form for
/// the Cloud API's upload.
pub(crate) trait ChunkSource {
    /// The next bytes; `None` at the end of the file.
    async fn next_chunk(&mut self) -> Result<Option<web::Bytes>, ApiError>;
}

impl ChunkSource for web::Payload {
    async fn next_chunk(&mut self) -> Result<Option<web::Bytes>, ApiError> {
        match self.next().await {
            None => Ok(None),
            Some(Ok(chunk)) => Ok(Some(chunk)),
            Some(Err(e)) => Err(ApiError::new(
                ErrorCode::RequestNotValid,
                format!("Reading the upload failed: {e}"),
            )),
        }
    }
}

/// Writes an upload of type `mime` to the media volume and records it; returns its new id.
pub(crate) async fn store_upload(
    state: &AppState,
    mime: String,
    body: &mut impl ChunkSource,
) -> Result<String, ApiError> {
    let kind = MediaKind::of_mime(&mime).ok_or_else(|| {
        ApiError::new(
            ErrorCode::ParameterValueInvalid,
            format!("Media type '{mime}' is not supported"),
        )
    })?;
    let id = uuid::Uuid::new_v4().to_string();
    let mut writer = MediaWriter::create(&state.settings.media_dir, &id)
        .await
        .map_err(not_writable)?;
    if let Err(e) = copy_body(body, &mut writer, kind).await {
        writer.discard().await;
        return Err(e);
    }
    if writer.size() == 0 {
        writer.discard().await;
        return Err(ApiError::new(
            ErrorCode::RequiredParameterMissing,
            "Request had no (empty) content",
        ));
    }
    let written = writer.finish().await.map_err(not_writable)?;
    let now = chrono::Utc::now().timestamp();
    let record = MediaRecord {
        id: id.clone(),
        mime_type: mime,
        sha256: written.sha256,
        size_bytes: i64::try_from(written.size).unwrap_or(i64::MAX),
        created_at: now,
        last_used_at: now,
    };
    if let Err(e) = state.store.insert_media(record).await {
        let _ = media::remove_file(&state.settings.media_dir, &id).await;
        return Err(match e {
            StoreError::Conflict => ApiError::new(
                ErrorCode::ResourceAlreadyExists,
                "Possible id conflict. Try again",
            ),
            other => database_failure(other),
        });
    }
    Ok(id)
}

/// The upload's type, stored with the file: at most `MIME_TYPE_CHARS` (parameters included).
fn content_type(req: &HttpRequest) -> Result<String, ApiError> {
    let mime = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::new(ErrorCode::RequiredParameterMissing, "Content-Type missing")
        })?;
    let max = wa_api::limits::MIME_TYPE_CHARS;
    if mime.chars().count() > max {
        return Err(wa_api::limits::too_long("Content-Type", max));
    }
    Ok(mime)
}

/// Streams the body into the file, stopping at the first byte over the limit.
async fn copy_body(
    body: &mut impl ChunkSource,
    writer: &mut MediaWriter,
    kind: MediaKind,
) -> Result<(), ApiError> {
    while let Some(chunk) = body.next_chunk().await? {
        let size = writer.size() + chunk.len() as u64;
        if size > MAX_UPLOAD_BYTES {
            return Err(ApiError::new(
                ErrorCode::ParameterValueInvalid,
                "Request content exceeds size of 100 MB",
            ));
        }
        if size > kind.max_bytes() {
            return Err(ApiError::new(
                ErrorCode::ParameterValueInvalid,
                format!(
                    "Media of type {} exceeds the {} limit",
                    kind.as_str(),
                    kind.limit_text()
                ),
            ));
        }
        writer.write(&chunk).await.map_err(not_writable)?;
    }
    Ok(())
}

/// `GET /v1/media/{id}`: the bytes with their type; an unknown id is an empty 404 (spec §5.2).
pub async fn download(
    _caller: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let Some(record) = find(&state, &id).await? else {
        return Ok(HttpResponse::NotFound().finish());
    };
    let file = match tokio::fs::File::open(media::file_path(&state.settings.media_dir, &id)).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::new(
                ErrorCode::ResourceNotFound,
                format!("File with id {id} not found"),
            ))
        }
        Err(e) => return Err(ApiError::internal(format!("Reading media failed: {e}"))),
    };
    let stream = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024);
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, record.mime_type))
        .insert_header((CONTENT_DISPOSITION, "attachment"))
        .no_chunking(u64::try_from(record.size_bytes).unwrap_or(0))
        .streaming(stream))
}

/// `DELETE /v1/media/{id}`: the record and the file; an unknown id is 404/1006.
pub async fn delete(
    _caller: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    remove(&state, &path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(meta_only(Meta::current_webapp())))
}

/// Deletes the record and the file of media `id`; an unknown id is 404/1006.
pub async fn remove(state: &AppState, id: &str) -> Result<(), ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::ResourceNotFound,
            format!("Media '{id}' not found"),
        )
    };
    if !media::is_media_id(id) {
        return Err(not_found());
    }
    if !state
        .store
        .delete_media(id)
        .await
        .map_err(database_failure)?
    {
        return Err(not_found());
    }
    media::remove_file(&state.settings.media_dir, id)
        .await
        .map_err(|e| ApiError::internal(format!("Deleting the media file failed: {e}")))
}

/// The record of media `id`; `None` for an id that is none or unknown.
pub async fn find(state: &AppState, id: &str) -> Result<Option<MediaRecord>, ApiError> {
    if !media::is_media_id(id) {
        return Ok(None);
    }
    state.store.find_media(id).await.map_err(database_failure)
}

fn not_writable(err: std::io::Error) -> ApiError {
    tracing::error!("writing to the media directory failed: {err}");
    ApiError::new(
        ErrorCode::AccessDenied,
        "Media directory is not writable. Please check permissions",
    )
}

fn database_failure(err: StoreError) -> ApiError {
    tracing::error!("database error: {err}");
    ApiError::new(ErrorCode::DatabaseError, "Database operation failed")
}

/// `GET /v1/settings/application/media/providers` (administrators).
pub async fn providers(
    caller: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let providers = stored_providers(&state).await?;
    Ok(HttpResponse::Ok().json(payload(
        "settings",
        json!({ "application": { "media": { "providers": providers } } }),
        Meta::current_webapp(),
    )))
}

/// `POST .../media/providers` with an array of exactly one provider: added, or replacing the
/// provider of the same name.
pub async fn add_provider(
    caller: AuthUser,
    state: web::Data<AppState>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    // The body is an array, so it cannot go through `JsonParams`; it gets the same size limit.
    let limit = state.settings.webapp.max_body_bytes;
    let body = crate::body::read_body(&mut body, limit, || crate::body::too_large(limit)).await?;
    let parsed: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::invalid_json())?;
    wa_api::limits::bounded_strings(&parsed, "config", wa_api::limits::ANY_STRING_CHARS)?;
    let provider = match parsed.as_array().map(Vec::as_slice) {
        Some([one]) => valid_provider(one)?,
        _ => {
            return Err(ApiError::new(
                ErrorCode::ParameterValueInvalid,
                "Can only add 1 config at a time",
            ))
        }
    };
    let mut providers = stored_providers(&state).await?;
    providers.retain(|p| p["name"] != provider["name"]);
    providers.push(provider);
    save_providers(&state, &providers).await?;
    Ok(HttpResponse::Ok().json(meta_only(Meta::current_webapp())))
}

/// `DELETE .../media/providers/{name}`; an unknown name is 404/1006.
pub async fn delete_provider(
    caller: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let name = path.into_inner();
    let mut providers = stored_providers(&state).await?;
    let before = providers.len();
    providers.retain(|p| p["name"] != name.as_str());
    if providers.len() == before {
        return Err(ApiError::new(
            ErrorCode::ResourceNotFound,
            format!("Media provider '{name}' not found"),
        ));
    }
    save_providers(&state, &providers).await?;
    Ok(HttpResponse::Ok().json(meta_only(Meta::current_webapp())))
}

/// `name`, `type` (`www` or `everstore`) and `config` (`basic` with username and password, or
/// `bearer`), checked field by field with the On-Prem codes.
fn valid_provider(value: &serde_json::Value) -> Result<serde_json::Value, ApiError> {
    let object = value
        .as_object()
        .ok_or_else(|| ApiError::invalid_parameter("providers", &value.to_string()))?;
    let text = |name: &str| match object.get(name) {
        None | Some(serde_json::Value::Null) => Err(ApiError::missing_parameter(name)),
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(other) => Err(ApiError::invalid_parameter(name, &other.to_string())),
    };
    let name = text("name")?;
    let kind = text("type")?;
    if kind != "www" && kind != "everstore" {
        return Err(ApiError::invalid_parameter("type", &kind));
    }
    let config = match object.get("config") {
        None | Some(serde_json::Value::Null) => return Err(ApiError::missing_parameter("config")),
        Some(config) => config,
    };
    let basic = &config["basic"];
    let valid_config = config["bearer"].as_str().is_some_and(|t| !t.is_empty())
        || (basic["username"].is_string() && basic["password"].is_string());
    if !valid_config {
        return Err(ApiError::invalid_parameter("config", &config.to_string()));
    }
    Ok(json!({ "name": name, "type": kind, "config": config }))
}

async fn stored_providers(state: &AppState) -> Result<Vec<serde_json::Value>, ApiError> {
    let stored = state
        .store
        .get_config_value(MEDIA_PROVIDERS)
        .await
        .map_err(database_failure)?;
    Ok(stored
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default())
}

async fn save_providers(state: &AppState, providers: &[serde_json::Value]) -> Result<(), ApiError> {
    let value = serde_json::Value::from(providers.to_vec()).to_string();
    state
        .store
        .put_config_value(MEDIA_PROVIDERS, value)
        .await
        .map_err(database_failure)
}
