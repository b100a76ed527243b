//! `/v1/stickerpacks` (spec onprem-stickerpacks): WhatsApp's first-party packs, cached from the
//! network (`?namespace=whatsapp`, see `crate::domain::first_party_stickers`), and the business's
//! third-party packs with their stickers, kept in the database. Writes only ever see the
//! third-party packs: `namespace` is ignored on them (spec §9), so a write naming a first-party
//! pack is 404/1006.

use crate::state::CoreState;
use crate::util::body::body_object;
use crate::util::failure::store_failure;
use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};
use wa_api::envelope::{meta_only, payload};
use wa_api::{ApiError, ErrorCode, Meta};
use wa_store::{StickerChanges, StickerPack, StickerPackChanges};

// Longest publisher or pack name (WhatsApp's sticker-app rule; the API documents none) and
// store link: wa_api::limits.
use wa_api::limits::{STICKERPACK_NAME_CHARS as MAX_NAME_CHARS, URL_CHARS as MAX_LINK_CHARS};
/// Emojis per sticker (WhatsApp's sticker-app rule).
const MAX_EMOJIS: usize = 3;
/// Stickers one pack may have.
const MAX_STICKERS: usize = 30;
/// Sticker images are square WebPs of this many pixels a side (spec §7.3).
const STICKER_PIXELS: u32 = 512;
const MAX_STATIC_STICKER_BYTES: i64 = 100 * 1024;
const MAX_ANIMATED_STICKER_BYTES: i64 = 500 * 1024;

type Reply = Result<HttpResponse, ApiError>;
type State = web::Data<CoreState>;

/// The query string as name/value pairs. A typed query would refuse a repeated key with a
/// non-JSON 400; the original (PHP) kept the last value, and so does [`namespace`].
type QueryPairs = web::Query<Vec<(String, String)>>;

/// Which packs a request is about.
#[derive(PartialEq)]
enum Namespace {
    WhatsApp,
    ThirdParty,
}

fn namespace(query: &[(String, String)]) -> Result<Namespace, ApiError> {
    let value = query.iter().rev().find(|(name, _)| name == "namespace");
    match value.map(|(_, value)| value.as_str()) {
        None | Some("") | Some("third_party") => Ok(Namespace::ThirdParty),
        Some("whatsapp") => Ok(Namespace::WhatsApp),
        Some(other) => Err(ApiError::invalid_parameter("namespace", other)),
    }
}

fn ok(key: &str, items: Vec<Value>) -> HttpResponse {
    HttpResponse::Ok().json(payload(key, items, Meta::current_coreapp()))
}

fn done() -> HttpResponse {
    HttpResponse::Ok().json(meta_only(Meta::current_coreapp()))
}

fn pack_not_found(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceNotFound,
        format!("Stickerpack {id} not found"),
    )
}

fn sticker_not_found(index: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceNotFound,
        format!("Sticker {index} not found"),
    )
}

/// A sticker index from the path: a decimal number, else no such sticker.
fn index_of(index: &str) -> Result<i32, ApiError> {
    let digits = !index.is_empty() && index.chars().all(|c| c.is_ascii_digit());
    digits
        .then(|| index.parse::<i32>().ok())
        .flatten()
        .ok_or_else(|| sticker_not_found(index))
}

// ---- first-party packs, from the cache ----

async fn first_party_pack(state: &CoreState, id: &str) -> Result<Value, ApiError> {
    crate::domain::first_party_stickers::packs(state)
        .await?
        .into_iter()
        .find(|p| p["id"] == id)
        .ok_or_else(|| pack_not_found(id))
}

// ---- packs ----

pub async fn list_packs(state: State, query: QueryPairs) -> Reply {
    let ids: Vec<Value> = match namespace(&query)? {
        Namespace::WhatsApp => crate::domain::first_party_stickers::packs(&state)
            .await?
            .iter()
            .map(|p| json!({"id": p["id"]}))
            .collect(),
        Namespace::ThirdParty => state
            .store
            .stickerpack_ids()
            .await
            .map_err(store_failure)?
            .into_iter()
            .map(|id| json!({ "id": id }))
            .collect(),
    };
    Ok(ok("stickerpacks", ids))
}

pub async fn create_pack(state: State, body: web::Bytes) -> Reply {
    let body = body_object(&body)?;
    let pack = StickerPack {
        id: uuid::Uuid::new_v4().to_string(),
        publisher: required_name(&body, "publisher")?,
        name: required_name(&body, "name")?,
        ios_app_store_link: optional_link(&body, "ios_app_store_link")?,
        android_app_store_link: optional_link(&body, "android_app_store_link")?,
    };
    let id = pack.id.clone();
    state
        .store
        .create_stickerpack(pack)
        .await
        .map_err(store_failure)?;
    Ok(HttpResponse::Created().json(payload(
        "stickerpacks",
        [json!({ "id": id })],
        Meta::current_coreapp(),
    )))
}

pub async fn get_pack(state: State, path: web::Path<String>, query: QueryPairs) -> Reply {
    let id = path.into_inner();
    if namespace(&query)? == Namespace::WhatsApp {
        let pack = first_party_pack(&state, &id).await?;
        let info = json!({"publisher": pack["publisher"], "name": pack["name"]});
        return Ok(ok("stickerpacks", vec![info]));
    }
    let pack = state
        .store
        .stickerpack(&id)
        .await
        .map_err(store_failure)?
        .ok_or_else(|| pack_not_found(&id))?;
    let mut info = json!({"publisher": pack.publisher, "name": pack.name});
    if let Some(link) = pack.ios_app_store_link {
        info["ios_app_store_link"] = json!(link);
    }
    if let Some(link) = pack.android_app_store_link {
        info["android_app_store_link"] = json!(link);
    }
    Ok(ok("stickerpacks", vec![info]))
}

pub async fn update_pack(state: State, path: web::Path<String>, body: web::Bytes) -> Reply {
    let body = body_object(&body)?;
    let changes = StickerPackChanges {
        publisher: optional_name(&body, "publisher")?,
        name: optional_name(&body, "name")?,
        ios_app_store_link: optional_link(&body, "ios_app_store_link")?,
        android_app_store_link: optional_link(&body, "android_app_store_link")?,
    };
    if changes.publisher.is_none()
        && changes.name.is_none()
        && changes.ios_app_store_link.is_none()
        && changes.android_app_store_link.is_none()
    {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            "No valid parameters provided",
        ));
    }
    let id = path.into_inner();
    let found = state
        .store
        .update_stickerpack(&id, changes)
        .await
        .map_err(store_failure)?;
    found.then(done).ok_or_else(|| pack_not_found(&id))
}

pub async fn delete_pack(state: State, path: web::Path<String>) -> Reply {
    let id = path.into_inner();
    let found = state
        .store
        .delete_stickerpack(&id)
        .await
        .map_err(store_failure)?;
    found.then(done).ok_or_else(|| pack_not_found(&id))
}

// ---- stickers ----

pub async fn list_stickers(state: State, path: web::Path<String>, query: QueryPairs) -> Reply {
    let pack = path.into_inner();
    let indexes: Vec<Value> = if namespace(&query)? == Namespace::WhatsApp {
        let found = first_party_pack(&state, &pack).await?;
        crate::domain::first_party_stickers::stickers_of(&found)
            .iter()
            .map(|s| json!({"index": s["index"]}))
            .collect()
    } else {
        state
            .store
            .sticker_indexes(&pack)
            .await
            .map_err(store_failure)?
            .ok_or_else(|| pack_not_found(&pack))?
            .into_iter()
            .map(|i| json!({"index": i.to_string()}))
            .collect()
    };
    Ok(ok("stickers", indexes))
}

pub async fn add_sticker(state: State, path: web::Path<String>, body: web::Bytes) -> Reply {
    let body = body_object(&body)?;
    let image = match body.get("image_data_id") {
        None | Some(Value::Null) => return Err(ApiError::missing_parameter("image_data_id")),
        Some(value) => media_id(value)?,
    };
    let emojis = emojis(&body)?.unwrap_or_default();
    let pack = path.into_inner();
    let existing = state
        .store
        .sticker_indexes(&pack)
        .await
        .map_err(store_failure)?
        .ok_or_else(|| pack_not_found(&pack))?;
    if existing.len() >= MAX_STICKERS {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            format!("Max number of stickers allowed is {MAX_STICKERS}"),
        ));
    }
    check_uploaded_image(&state, &image).await?;
    let sticker_id = uuid::Uuid::new_v4().to_string();
    let index = state
        .store
        .add_sticker(&pack, &sticker_id, &image, &emojis)
        .await
        .map_err(store_failure)?
        .ok_or_else(|| pack_not_found(&pack))?;
    Ok(HttpResponse::Created().json(payload(
        "stickers",
        [json!({ "index": index.to_string() })],
        Meta::current_coreapp(),
    )))
}

/// A third-party sticker named by the path: an unknown pack is reported before an unknown
/// index, as for every path below the pack.
async fn existing_sticker(
    state: &CoreState,
    pack: &str,
    index: &str,
) -> Result<(i32, wa_store::Sticker), ApiError> {
    state
        .store
        .stickerpack(pack)
        .await
        .map_err(store_failure)?
        .ok_or_else(|| pack_not_found(pack))?;
    let number = index_of(index)?;
    let sticker = state
        .store
        .sticker(pack, number)
        .await
        .map_err(store_failure)?
        .ok_or_else(|| sticker_not_found(index))?;
    Ok((number, sticker))
}

pub async fn get_sticker(
    state: State,
    path: web::Path<(String, String)>,
    query: QueryPairs,
) -> Reply {
    let (pack, index) = path.into_inner();
    if namespace(&query)? == Namespace::WhatsApp {
        let found = first_party_pack(&state, &pack).await?;
        let sticker = crate::domain::first_party_stickers::stickers_of(&found)
            .into_iter()
            .find(|s| s["index"] == index.as_str())
            .ok_or_else(|| sticker_not_found(&index))?;
        return Ok(ok(
            "stickers",
            vec![json!({"id": sticker["id"], "emojis": sticker["emojis"]})],
        ));
    }
    let (_, sticker) = existing_sticker(&state, &pack, &index).await?;
    let shown =
        json!({"id": sticker.id, "emojis": sticker.emojis, "image_data_id": sticker.image_data_id});
    Ok(ok("stickers", vec![shown]))
}

pub async fn update_sticker(
    state: State,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Reply {
    let body = body_object(&body)?;
    let image = match body.get("image_data_id") {
        None | Some(Value::Null) => None,
        // A new image is new content: it gets a new sticker id (spec §6.4).
        Some(value) => Some((uuid::Uuid::new_v4().to_string(), media_id(value)?)),
    };
    let changes = StickerChanges {
        image,
        emojis: emojis(&body)?,
    };
    if changes.image.is_none() && changes.emojis.is_none() {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            "No valid parameters provided",
        ));
    }
    let (pack, index) = path.into_inner();
    let (number, _) = existing_sticker(&state, &pack, &index).await?;
    if let Some((_, image)) = &changes.image {
        check_uploaded_image(&state, image).await?;
    }
    let found = state
        .store
        .update_sticker(&pack, number, changes)
        .await
        .map_err(store_failure)?;
    found.then(done).ok_or_else(|| sticker_not_found(&index))
}

pub async fn delete_sticker(state: State, path: web::Path<(String, String)>) -> Reply {
    let (pack, index) = path.into_inner();
    let (number, _) = existing_sticker(&state, &pack, &index).await?;
    let found = state
        .store
        .delete_sticker(&pack, number)
        .await
        .map_err(store_failure)?;
    found.then(done).ok_or_else(|| sticker_not_found(&index))
}

// ---- field validation ----

fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn required_name(body: &Map<String, Value>, field: &str) -> Result<String, ApiError> {
    optional_name(body, field)?.ok_or_else(|| ApiError::missing_parameter(field))
}

/// A publisher or pack name: 1 to 128 characters once trimmed.
fn optional_name(body: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if (1..=MAX_NAME_CHARS).contains(&s.trim().chars().count()) => {
            Ok(Some(s.trim().to_string()))
        }
        Some(other) => Err(ApiError::invalid_parameter(field, &shown(other))),
    }
}

/// An app store link: an absolute http(s) URL without spaces.
fn optional_link(body: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s))
            if (s.starts_with("https://") || s.starts_with("http://"))
                && s.len() <= MAX_LINK_CHARS
                && !s.contains(char::is_whitespace) =>
        {
            Ok(Some(s.clone()))
        }
        Some(other) => Err(ApiError::invalid_parameter(field, &shown(other))),
    }
}

/// A media id as `POST /v1/media` returns them.
fn media_id(value: &Value) -> Result<String, ApiError> {
    match value {
        Value::String(s)
            if !s.is_empty()
                && s.len() <= 128
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            Ok(s.clone())
        }
        other => Err(ApiError::invalid_parameter("image_data_id", &shown(other))),
    }
}

/// An `image_data_id` must name an uploaded WebP that follows the sticker image rules (spec §7.3):
/// unknown → 404/1006; not WebP, not 512×512, or too large → 400/1009 naming the rule.
async fn check_uploaded_image(state: &CoreState, id: &str) -> Result<(), ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::ResourceNotFound,
            format!("File with id {id} not found"),
        )
    };
    let record = state
        .store
        .find_media(id)
        .await
        .map_err(store_failure)?
        .ok_or_else(not_found)?;
    let header = read_header(&state.media_dir, id)
        .await
        .map_err(|_| not_found())?;
    check_sticker_image(&record.mime_type, record.size_bytes, &header)
}

/// The first bytes of an uploaded file, enough for [`crate::domain::webp::parse`].
async fn read_header(media_dir: &std::path::Path, id: &str) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(wa_common::media::file_path(media_dir, id)).await?;
    let mut header = Vec::with_capacity(crate::domain::webp::HEADER_BYTES);
    file.take(crate::domain::webp::HEADER_BYTES as u64)
        .read_to_end(&mut header)
        .await?;
    Ok(header)
}

fn image_rule(details: String) -> ApiError {
    ApiError::new(ErrorCode::ParameterValueInvalid, details)
}

fn check_sticker_image(mime_type: &str, size_bytes: i64, header: &[u8]) -> Result<(), ApiError> {
    let webp = crate::domain::webp::parse(header)
        .filter(|_| mime_type == "image/webp")
        .ok_or_else(|| {
            image_rule(format!(
                "Sticker image must be image/webp, not '{mime_type}'"
            ))
        })?;
    if (webp.width, webp.height) != (STICKER_PIXELS, STICKER_PIXELS) {
        return Err(image_rule(format!(
            "Sticker image must be {STICKER_PIXELS}x{STICKER_PIXELS} pixels, not {}x{}",
            webp.width, webp.height
        )));
    }
    let (limit, kind) = if webp.animated {
        (MAX_ANIMATED_STICKER_BYTES, "An animated")
    } else {
        (MAX_STATIC_STICKER_BYTES, "A static")
    };
    if size_bytes > limit {
        return Err(image_rule(format!(
            "{kind} sticker image must be at most {} KB",
            limit / 1024
        )));
    }
    Ok(())
}

/// Up to three emojis, each a non-empty string on one line.
fn emojis(body: &Map<String, Value>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(value) = body.get("emojis").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let invalid = || ApiError::invalid_parameter("emojis", &shown(value));
    let list = value.as_array().ok_or_else(invalid)?;
    if list.len() > MAX_EMOJIS {
        return Err(invalid());
    }
    list.iter()
        .map(|e| match e.as_str() {
            Some(s) if !s.is_empty() && s.chars().count() <= 16 && !s.contains('\n') => {
                Ok(s.to_string())
            }
            _ => Err(invalid()),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn emojis_are_at_most_three_strings() {
        assert_eq!(emojis(&body(json!({}))).unwrap(), None);
        assert_eq!(
            emojis(&body(json!({"emojis": ["🐥"]}))).unwrap(),
            Some(vec!["🐥".to_string()])
        );
        assert!(emojis(&body(json!({"emojis": ["a", "b", "c", "d"]}))).is_err());
        assert!(emojis(&body(json!({"emojis": "🐥"}))).is_err());
        assert!(emojis(&body(json!({"emojis": [""]}))).is_err());
    }

    #[test]
    fn indexes_are_decimal() {
        assert_eq!(index_of("12").unwrap(), 12);
        assert!(index_of("-1").is_err());
        assert!(index_of("x").is_err());
        assert!(index_of("99999999999").is_err());
    }

    /// The first bytes of an extended-format WebP with the given canvas.
    fn webp(width: u32, height: u32, animated: bool) -> Vec<u8> {
        let mut header = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0".to_vec();
        header.extend_from_slice(&[if animated { 2 } else { 0 }, 0, 0, 0]);
        header.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
        header.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
        header
    }

    fn image_error(mime: &str, size: i64, header: &[u8]) -> Option<(u32, String)> {
        check_sticker_image(mime, size, header).err().map(|e| {
            (
                e.first_code(),
                e.errors[0].details.clone().unwrap_or_default(),
            )
        })
    }

    #[test]
    fn sticker_images_are_512_pixel_webps_within_their_size() {
        let square = webp(512, 512, false);
        assert_eq!(image_error("image/webp", 100 * 1024, &square), None);
        assert_eq!(
            image_error("image/webp", 100 * 1024 + 1, &square),
            Some((1009, "A static sticker image must be at most 100 KB".into()))
        );
        assert_eq!(
            image_error("image/webp", 500 * 1024, &webp(512, 512, true)),
            None
        );
        assert_eq!(
            image_error("image/webp", 500 * 1024 + 1, &webp(512, 512, true)),
            Some((
                1009,
                "An animated sticker image must be at most 500 KB".into()
            ))
        );
        assert_eq!(
            image_error("image/webp", 10, &webp(96, 96, false)),
            Some((
                1009,
                "Sticker image must be 512x512 pixels, not 96x96".into()
            ))
        );
        assert_eq!(
            image_error("image/png", 10, &square),
            Some((
                1009,
                "Sticker image must be image/webp, not 'image/png'".into()
            ))
        );
        assert_eq!(
            image_error("image/webp", 10, b"not a webp at all, just bytes..").map(|e| e.0),
            Some(1009)
        );
    }

    #[test]
    fn links_must_be_http_urls() {
        let ok = body(json!({"l": "https://play.google.com/store/apps/details?id=x"}));
        assert!(optional_link(&ok, "l").unwrap().is_some());
        assert!(optional_link(&body(json!({"l": "ftp://x"})), "l").is_err());
        assert!(optional_link(&body(json!({"l": 3})), "l").is_err());
    }
}
