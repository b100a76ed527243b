//! `image`, `audio`, `video`, `document`, `sticker` by `id` or `link` (spec §2.4.2). Only the
//! shape is checked here; the media bytes are resolved after validation by
//! `crate::domain::media::resolve_media` (an unknown `id` → 404, a `link` fetched through its provider).

use super::fields::{
    exactly_one, limited_str, optional_object, optional_str, reject, required_str, url, Object,
};
use serde_json::{Map, Value};
use wa_api::ApiError;

/// Longest caption (Cloud's limit; On-Prem's is unconfirmed).
use wa_api::limits::CAPTION_CHARS as MAX_CAPTION_CHARS;

/// Checks one media object (`kind` is its type) and returns what goes to the network.
pub fn media_object(kind: &str, media: &Object) -> Result<Value, ApiError> {
    let dep = "type";
    reject(media, &["body", "namespace", "element_name"], dep, kind)?;
    if !matches!(kind, "image" | "video" | "document") {
        reject(media, &["caption"], dep, kind)?;
    }
    if kind != "document" {
        reject(media, &["filename"], dep, kind)?;
    }
    exactly_one(media, "id", "link")?;
    let mut out = Map::new();
    if let Some(id) = optional_str(media, "id")? {
        if id.trim().is_empty() {
            return Err(ApiError::invalid_parameter("id", id));
        }
        out.insert("id".into(), id.into());
    }
    if let Some(link) = url(media, "link")? {
        out.insert("link".into(), link.into());
    }
    if let Some(provider) = optional_object(media, "provider")? {
        if out.contains_key("id") {
            return Err(super::fields::not_required_for(
                "provider",
                "parameter",
                "id",
            ));
        }
        let name = required_str(provider, "name")?;
        out.insert("provider".into(), serde_json::json!({ "name": name }));
    }
    if let Some(caption) = limited_str(media, "caption", MAX_CAPTION_CHARS)? {
        out.insert("caption".into(), caption.into());
    }
    if let Some(filename) = optional_str(media, "filename")? {
        out.insert("filename".into(), filename.into());
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(kind: &str, v: Value) -> Result<Value, ApiError> {
        media_object(kind, v.as_object().unwrap())
    }

    fn details(e: ApiError) -> (u32, String) {
        (
            e.first_code(),
            e.errors[0].details.clone().unwrap_or_default(),
        )
    }

    #[test]
    fn media_rules() {
        assert!(check("image", json!({"id": "f043afd0", "caption": "c"})).is_ok());
        assert!(check("document", json!({"link": "https://a.example/i.pdf", "filename": "i.pdf", "provider": {"name": "p"}})).is_ok());
        assert_eq!(
            details(check("audio", json!({"id": "x", "caption": "c"})).unwrap_err()),
            (
                1010,
                "Parameter 'caption' is not required for type 'audio'".into()
            )
        );
        assert_eq!(
            details(check("image", json!({"id": "x", "filename": "a.jpg"})).unwrap_err()),
            (
                1010,
                "Parameter 'filename' is not required for type 'image'".into()
            )
        );
        assert_eq!(check("sticker", json!({})).unwrap_err().first_code(), 1008);
        assert_eq!(
            check(
                "video",
                json!({"id": "a", "link": "https://a.example/v.mp4"})
            )
            .unwrap_err()
            .first_code(),
            1010
        );
        assert_eq!(
            check("video", json!({"link": "not a url"}))
                .unwrap_err()
                .first_code(),
            1009
        );
        assert_eq!(
            check("image", json!({"id": "a", "provider": {"name": "p"}}))
                .unwrap_err()
                .first_code(),
            1010
        );
        assert_eq!(
            check(
                "image",
                json!({"link": "https://a.example/x", "provider": {}})
            )
            .unwrap_err()
            .first_code(),
            1008
        );
        assert_eq!(
            check("image", json!({"id": "a", "caption": "x".repeat(1025)}))
                .unwrap_err()
                .first_code(),
            1009
        );
    }
}
