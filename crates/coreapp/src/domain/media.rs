//! Media in messages (spec onprem-messaging §2.4.2, §5): the files of outbound media messages
//! are handed to the network before the send is accepted, and inbound media is downloaded from
//! the network to the media volume before its webhook. Files move in chunks of
//! [`MEDIA_CHUNK_BYTES`], never whole.
//!
//! The webapp writes uploads to the shared volume itself and records them in the database
//! (docs/architecture.md); this side reads them from there.

use crate::network::{NetClient, SessionError};
use crate::state::CoreState;
use crate::util::failure::not_ready;
use crate::util::failure::store_failure;
use base64::Engine;
use serde_json::{Map, Value};
use tokio::io::AsyncReadExt;
use wa_api::keys::MEDIA_PROVIDERS;
use wa_api::{ApiError, ErrorCode};
use wa_common::media::{self, MediaKind, MediaWriter, MAX_UPLOAD_BYTES};
use wa_netproto::{Request, Response, MEDIA_CHUNK_BYTES};
use wa_store::MediaRecord;

/// Message types whose object is a media file (outbound and inbound; `voice` is inbound only).
pub const MEDIA_TYPES: &[&str] = &["image", "audio", "voice", "video", "document", "sticker"];

/// Makes the media of an outbound message available to the network: the message's own media
/// object, the media of an interactive `button` header, and the media parameters of template
/// headers. An `id` must name an uploaded file (404/1006 otherwise); a `link` is downloaded
/// first (with the named provider's credentials) and becomes an uploaded file. Each object then
/// carries `id`, `mime_type` and `sha256` for the phone. Messages without media are left alone.
pub async fn resolve_media(state: &CoreState, message: &mut Value) -> Result<(), ApiError> {
    if let Some((kind, object)) = media_object(message) {
        resolve_object(state, &kind, object, Placement::Message).await?;
    }
    for (kind, object) in nested_media_objects(message) {
        resolve_object(state, &kind, object, Placement::Nested).await?;
    }
    Ok(())
}

/// Where a media object sits in the message.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// The message's own object (`{"type": "image", "image": {...}}`).
    Message,
    /// Inside an interactive header or a template header parameter. These keep `link` and
    /// `filename`: the network checks a template's document header by them (2008).
    Nested,
}

async fn resolve_object(
    state: &CoreState,
    kind: &str,
    object: &mut Map<String, Value>,
    placement: Placement,
) -> Result<(), ApiError> {
    let record = match (string_field(object, "id")?, string_field(object, "link")?) {
        (Some(id), _) if kind == "sticker" => match find_sticker(state, &id).await? {
            Some(record) => record,
            // A first-party sticker: the network has it already.
            None => return Ok(()),
        },
        (Some(id), _) => find_uploaded(state, &id).await?,
        (None, Some(link)) => fetch_link(state, &link, provider_name(object)?).await?,
        (None, None) => return Ok(()),
    };
    let session = ready_session(state)?;
    upload_to_network(state, &session, &record).await?;
    let now = crate::util::now_ms() / 1000;
    state
        .store
        .touch_media(&record.id, now)
        .await
        .map_err(store_failure)?;
    if placement == Placement::Message {
        object.remove("link");
    }
    object.remove("provider");
    object.insert("id".into(), record.id.into());
    object.insert("mime_type".into(), record.mime_type.into());
    object.insert("sha256".into(), record.sha256.into());
    Ok(())
}

/// Media types an interactive header or a template header parameter may carry.
const HEADER_MEDIA_TYPES: &[&str] = &["image", "video", "document"];

/// The media objects inside an interactive header and inside template header parameters, with
/// their types. (The legacy `hsm` has no media parameters.)
fn nested_media_objects(message: &mut Value) -> Vec<(String, &mut Map<String, Value>)> {
    match message.get("type").and_then(Value::as_str) {
        Some("interactive") => message
            .pointer_mut("/interactive/header")
            .and_then(typed_media)
            .into_iter()
            .collect(),
        Some("template") => template_header_media(message),
        _ => Vec::new(),
    }
}

fn template_header_media(message: &mut Value) -> Vec<(String, &mut Map<String, Value>)> {
    let components = message
        .pointer_mut("/template/components")
        .and_then(Value::as_array_mut);
    components
        .into_iter()
        .flatten()
        .filter(|c| c.get("type").and_then(Value::as_str) == Some("header"))
        .filter_map(|c| c.get_mut("parameters").and_then(Value::as_array_mut))
        .flatten()
        .filter_map(typed_media)
        .collect()
}

/// `{"type": "image", "image": {...}}` (a header or a parameter): the type and its media object.
fn typed_media(holder: &mut Value) -> Option<(String, &mut Map<String, Value>)> {
    let kind = holder.get("type").and_then(Value::as_str)?.to_string();
    if !HEADER_MEDIA_TYPES.contains(&kind.as_str()) {
        return None;
    }
    let object = holder.get_mut(&kind).and_then(Value::as_object_mut)?;
    Some((kind, object))
}

/// The type and the media object of a media message; `None` for other messages.
fn media_object(message: &mut Value) -> Option<(String, &mut Map<String, Value>)> {
    let kind = message.get("type").and_then(Value::as_str)?.to_string();
    if !MEDIA_TYPES.contains(&kind.as_str()) {
        return None;
    }
    let object = message.get_mut(&kind).and_then(Value::as_object_mut)?;
    Some((kind, object))
}

fn string_field(object: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
        Some(other) => Err(ApiError::invalid_parameter(name, &other.to_string())),
    }
}

fn provider_name(object: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    match object.get("provider") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(provider)) => string_field(provider, "name"),
        Some(other) => Err(ApiError::invalid_parameter("provider", &other.to_string())),
    }
}

/// A sticker `id` is an uploaded file's id, a third-party pack sticker's id (its image is the
/// file), or a first-party sticker the network serves (`None`: sent as is) (spec
/// onprem-stickerpacks §8). Anything else is 404/1006 like an unknown media id.
async fn find_sticker(state: &CoreState, id: &str) -> Result<Option<MediaRecord>, ApiError> {
    let image = state.store.sticker_image(id).await.map_err(store_failure)?;
    if let Some(image_id) = image {
        return find_uploaded(state, &image_id).await.map(Some);
    }
    if crate::domain::first_party_stickers::is_first_party_sticker(state, id).await? {
        return Ok(None);
    }
    find_uploaded(state, id).await.map(Some)
}

async fn find_uploaded(state: &CoreState, id: &str) -> Result<MediaRecord, ApiError> {
    let found = if media::is_media_id(id) {
        state.store.find_media(id).await.map_err(store_failure)?
    } else {
        None
    };
    found.ok_or_else(|| {
        ApiError::new(
            ErrorCode::ResourceNotFound,
            format!("Media with id '{id}' not found"),
        )
    })
}

fn ready_session(state: &CoreState) -> Result<NetClient, ApiError> {
    match state.session() {
        Some(session) if state.is_ready() => Ok(session),
        _ => Err(not_ready("media upload")),
    }
}

/// Sends the file to the network chunk by chunk, then its digest.
async fn upload_to_network(
    state: &CoreState,
    session: &NetClient,
    record: &MediaRecord,
) -> Result<(), ApiError> {
    let path = media::file_path(&state.media_dir, &record.id);
    let mut file = tokio::fs::File::open(&path).await.map_err(|e| {
        ApiError::new(
            ErrorCode::ResourceNotFound,
            format!("File with id {} not found: {e}", record.id),
        )
    })?;
    let mut buffer = vec![0u8; MEDIA_CHUNK_BYTES as usize];
    let mut offset = 0u64;
    loop {
        let read = read_full(&mut file, &mut buffer).await?;
        if read == 0 && offset > 0 {
            break;
        }
        let request = Request::UploadMediaChunk {
            id: record.id.clone(),
            offset,
            bytes_b64: base64::engine::general_purpose::STANDARD.encode(&buffer[..read]),
        };
        session.request(request).await.map_err(upload_failure)?;
        offset += read as u64;
        if read < buffer.len() {
            break;
        }
    }
    let done = Request::UploadMediaDone {
        id: record.id.clone(),
        mime_type: record.mime_type.clone(),
        sha256: record.sha256.clone(),
    };
    session.request(done).await.map_err(upload_failure)?;
    Ok(())
}

/// Fills `buffer` unless the file ends first; the number of bytes read.
async fn read_full(file: &mut tokio::fs::File, buffer: &mut [u8]) -> Result<usize, ApiError> {
    let mut filled = 0;
    while filled < buffer.len() {
        let n = file
            .read(&mut buffer[filled..])
            .await
            .map_err(|e| ApiError::internal(format!("Reading media failed: {e}")))?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

fn upload_failure(err: SessionError) -> ApiError {
    ApiError::from(err)
}

/// Downloads `link` (spec §2.4.2) into the media volume with the provider's credentials.
async fn fetch_link(
    state: &CoreState,
    link: &str,
    provider: Option<String>,
) -> Result<MediaRecord, ApiError> {
    let url = reqwest::Url::parse(link)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| ApiError::invalid_parameter("link", link))?;
    let mut request = state.media_client.get(url);
    if let Some(name) = provider {
        request = with_credentials(state, request, &name).await?;
    }
    let mut response = request
        .send()
        .await
        .map_err(|e| download_error(link, &e.to_string()))?;
    if !response.status().is_success() {
        return Err(download_error(link, &format!("HTTP {}", response.status())));
    }
    let mime = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .trim()
        .to_string();
    let kind = MediaKind::of_mime(&mime).ok_or_else(|| {
        ApiError::new(
            ErrorCode::ParameterValueInvalid,
            format!("Media type '{mime}' is not supported"),
        )
    })?;
    let id = uuid::Uuid::new_v4().to_string();
    let mut writer = MediaWriter::create(&state.media_dir, &id)
        .await
        .map_err(|e| ApiError::internal(format!("Writing media failed: {e}")))?;
    let limit = kind.max_bytes().min(MAX_UPLOAD_BYTES);
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                writer.discard().await;
                return Err(download_error(link, &e.to_string()));
            }
        };
        if writer.size() + chunk.len() as u64 > limit {
            writer.discard().await;
            return Err(ApiError::new(
                ErrorCode::ParameterValueInvalid,
                format!(
                    "Media of type {} exceeds the {} limit",
                    kind.as_str(),
                    kind.limit_text()
                ),
            ));
        }
        if let Err(e) = writer.write(&chunk).await {
            writer.discard().await;
            return Err(ApiError::internal(format!("Writing media failed: {e}")));
        }
    }
    let written = writer
        .finish()
        .await
        .map_err(|e| ApiError::internal(format!("Writing media failed: {e}")))?;
    let now = crate::util::now_ms() / 1000;
    let record = MediaRecord {
        id,
        mime_type: mime,
        sha256: written.sha256,
        size_bytes: i64::try_from(written.size).unwrap_or(i64::MAX),
        created_at: now,
        last_used_at: now,
    };
    state
        .store
        .insert_media(record.clone())
        .await
        .map_err(store_failure)?;
    Ok(record)
}

fn download_error(link: &str, why: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ParameterValueInvalid,
        format!("Media download from '{link}' failed: {why}"),
    )
}

/// Adds the Basic or Bearer credentials of provider `name`; an unknown provider is 1009.
async fn with_credentials(
    state: &CoreState,
    request: reqwest::RequestBuilder,
    name: &str,
) -> Result<reqwest::RequestBuilder, ApiError> {
    let providers = stored_providers(state).await?;
    let provider = providers
        .iter()
        .find(|p| p["name"] == name)
        .ok_or_else(|| ApiError::invalid_parameter("provider.name", name))?;
    let config = &provider["config"];
    if let Some(token) = config["bearer"].as_str() {
        return Ok(request.bearer_auth(token));
    }
    if let Some(user) = config["basic"]["username"].as_str() {
        return Ok(request.basic_auth(user, config["basic"]["password"].as_str()));
    }
    Ok(request)
}

/// The configured media providers (an empty list when none were added).
pub async fn stored_providers(state: &CoreState) -> Result<Vec<Value>, ApiError> {
    let stored = state
        .store
        .get_config_value(MEDIA_PROVIDERS)
        .await
        .map_err(store_failure)?;
    Ok(stored
        .and_then(|s| serde_json::from_str::<Vec<Value>>(&s).ok())
        .unwrap_or_default())
}

/// Inbound media as the webhook shows it (spec §5.6): the message's own media object, and the
/// image or video of a click-to-WhatsApp `referral`. Each is downloaded into the media volume
/// when `media.auto_download` lists its type (for referrals, unless
/// `skip_referral_media_download` is on) and shows the local `id`; otherwise it has no `id` and
/// says `"status": "undownloaded"`. `message_id` makes the local ids stable across retries.
pub async fn receive_inbound_media(
    state: &CoreState,
    client: &NetClient,
    message_id: &str,
    message: &mut Value,
) -> Result<(), SessionError> {
    let settings = state.settings.current();
    if let Some((kind, object)) = media_object(message) {
        let wanted = settings.auto_downloads(&kind);
        receive_object(state, client, object, wanted, message_id).await?;
    }
    let Some(referral) = message.get_mut("referral").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    // Its own seed: the referral's file must not take the id of the message's file.
    let seed = format!("{message_id}/referral");
    for kind in REFERRAL_MEDIA_TYPES {
        let Some(object) = referral.get_mut(*kind).and_then(Value::as_object_mut) else {
            continue;
        };
        let wanted = settings.auto_downloads(kind) && !settings.skip_referral_media_download;
        receive_object(state, client, object, wanted, &seed).await?;
    }
    Ok(())
}

/// Media types a click-to-WhatsApp referral may carry.
const REFERRAL_MEDIA_TYPES: &[&str] = &["image", "video"];

/// Downloads one inbound media object when `wanted` and rewrites it for the webhook.
async fn receive_object(
    state: &CoreState,
    client: &NetClient,
    object: &mut Map<String, Value>,
    wanted: bool,
    seed: &str,
) -> Result<(), SessionError> {
    let network_id = object
        .remove("id")
        .and_then(|v| v.as_str().map(str::to_string));
    let downloaded = match network_id {
        Some(network_id) if wanted => download(state, client, &network_id, seed).await?,
        _ => None,
    };
    match downloaded {
        Some(record) => {
            object.insert("id".into(), record.id.into());
            object.insert("mime_type".into(), record.mime_type.into());
            object.insert("sha256".into(), record.sha256.into());
        }
        None => {
            object.insert("status".into(), "undownloaded".into());
        }
    }
    Ok(())
}

/// Downloads network media into the volume and records it. `None` when the file could not be
/// had (the webhook then says `undownloaded`); connection trouble is an error, so the push is
/// retried on the next session.
async fn download(
    state: &CoreState,
    client: &NetClient,
    network_id: &str,
    message_id: &str,
) -> Result<Option<MediaRecord>, SessionError> {
    let id = media::derived_id(message_id);
    if let Ok(Some(existing)) = state.store.find_media(&id).await {
        return Ok(Some(existing));
    }
    let mut writer = match MediaWriter::create(&state.media_dir, &id).await {
        Ok(writer) => writer,
        Err(e) => {
            tracing::error!("cannot write inbound media {id}: {e}");
            return Ok(None);
        }
    };
    let mut mime_type;
    loop {
        let request = Request::DownloadMediaChunk {
            id: network_id.to_string(),
            offset: writer.size(),
            max_bytes: MEDIA_CHUNK_BYTES,
        };
        let (mime, total, bytes) = match client.request(request).await {
            Ok(Response::MediaChunk {
                mime_type,
                total_bytes,
                bytes_b64,
                ..
            }) => (mime_type, total_bytes, bytes_b64),
            Ok(_) | Err(SessionError::Net(_)) => {
                tracing::warn!("inbound media {network_id} could not be downloaded");
                writer.discard().await;
                return Ok(None);
            }
            Err(e) => {
                writer.discard().await;
                return Err(e);
            }
        };
        mime_type = mime;
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(bytes) else {
            writer.discard().await;
            return Ok(None);
        };
        if bytes.is_empty() || writer.write(&bytes).await.is_err() {
            writer.discard().await;
            return Ok(None);
        }
        if writer.size() >= total {
            break;
        }
    }
    let Ok(written) = writer.finish().await else {
        return Ok(None);
    };
    let now = crate::util::now_ms() / 1000;
    let record = MediaRecord {
        id,
        mime_type,
        sha256: written.sha256,
        size_bytes: i64::try_from(written.size).unwrap_or(i64::MAX),
        created_at: now,
        last_used_at: now,
    };
    match state.store.insert_media(record.clone()).await {
        Ok(()) | Err(wa_store::StoreError::Conflict) => Ok(Some(record)),
        Err(e) => {
            tracing::error!("recording inbound media {} failed: {e}", record.id);
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested_kinds(mut message: Value) -> Vec<String> {
        nested_media_objects(&mut message)
            .into_iter()
            .map(|(kind, _)| kind)
            .collect()
    }

    #[test]
    fn nested_media_is_found_in_button_headers_and_template_header_parameters() {
        let button = json!({"type": "interactive", "interactive": {"type": "button",
            "header": {"type": "image", "image": {"id": "a"}}}});
        assert_eq!(nested_kinds(button), ["image"]);
        let text_header = json!({"type": "interactive", "interactive": {"type": "list",
            "header": {"type": "text", "text": "t"}}});
        assert!(nested_kinds(text_header).is_empty());
        let template = json!({"type": "template", "template": {"components": [
            {"type": "header", "parameters": [{"type": "document", "document": {"link": "l"}}]},
            {"type": "body", "parameters": [{"type": "text", "text": "x"}]}]}});
        assert_eq!(nested_kinds(template), ["document"]);
        let image = json!({"type": "image", "image": {"id": "a"}});
        assert!(nested_kinds(image).is_empty());
    }
}
