//! Media held by the network: files businesses upload before sending them (the phones fetch
//! them from here) and files consumers attach to their messages (the business downloads them).
//! Kept in memory and written through to the state store (`state`); files older than the
//! media retention are forgotten, as the real network forgets media after about 30 days.

use crate::base::errors::invalid_parameter;
use base64::Engine;
use rand::Rng;
use ring::digest::{digest, SHA256};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};
use wa_netproto::{NetError, Response};

/// One complete file.
#[derive(Debug, Clone)]
pub struct StoredMedia {
    pub mime_type: String,
    pub sha256: String,
    pub bytes: Vec<u8>,
    /// When it was stored, epoch milliseconds.
    pub created_ms: i64,
}

/// A file as the state store keeps it.
#[derive(Serialize, Deserialize)]
pub struct MediaRecord {
    mime_type: String,
    sha256: String,
    bytes_b64: String,
    created_ms: i64,
}

/// What the control API shows about a file.
#[derive(Debug, Serialize)]
pub struct MediaView {
    pub id: String,
    pub mime_type: String,
    pub sha256: String,
    pub size: usize,
}

#[derive(Default)]
pub struct MediaStore {
    files: Mutex<HashMap<String, StoredMedia>>,
    /// Uploads whose last chunk has not come yet.
    partial: Mutex<HashMap<String, Vec<u8>>>,
    /// Ids stored or forgotten since the state store last took them.
    dirty: Mutex<BTreeSet<String>>,
}

impl MediaStore {
    fn files(&self) -> MutexGuard<'_, HashMap<String, StoredMedia>> {
        self.files.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn partial(&self) -> MutexGuard<'_, HashMap<String, Vec<u8>>> {
        self.partial.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A business's chunk. A chunk at offset 0 starts the upload again (a retried send).
    pub fn upload_chunk(
        &self,
        id: &str,
        offset: u64,
        bytes_b64: &str,
    ) -> Result<Response, NetError> {
        let bytes = decode(bytes_b64)?;
        let mut partial = self.partial();
        if offset == 0 {
            partial.insert(id.to_string(), Vec::new());
        }
        let buffer = partial
            .get_mut(id)
            .filter(|b| b.len() as u64 == offset)
            .ok_or_else(|| {
                invalid_parameter(format!("media chunk of '{id}' at {offset} is out of order"))
            })?;
        buffer.extend_from_slice(&bytes);
        Ok(Response::Done)
    }

    /// The business's upload is complete: kept when its digest is the announced one.
    pub fn upload_done(
        &self,
        id: &str,
        mime_type: &str,
        sha256: &str,
    ) -> Result<Response, NetError> {
        let bytes = self
            .partial()
            .remove(id)
            .ok_or_else(|| invalid_parameter(format!("no upload of media '{id}' in progress")))?;
        let actual = sha256_hex(&bytes);
        if actual != sha256 {
            return Err(invalid_parameter(format!(
                "media '{id}' has sha256 {actual}, not the announced {sha256}"
            )));
        }
        self.insert(id.to_string(), mime_type.to_string(), bytes);
        Ok(Response::Done)
    }

    pub fn download_chunk(
        &self,
        id: &str,
        offset: u64,
        max_bytes: u64,
    ) -> Result<Response, NetError> {
        let files = self.files();
        let media = files.get(id).ok_or_else(|| {
            NetError::new(1006, "Resource not found").with_details(format!("no media '{id}'"))
        })?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(media.bytes.len());
        let wanted = usize::try_from(max_bytes.min(wa_netproto::MEDIA_CHUNK_BYTES)).unwrap_or(0);
        let end = start.saturating_add(wanted).min(media.bytes.len());
        Ok(Response::MediaChunk {
            mime_type: media.mime_type.clone(),
            sha256: media.sha256.clone(),
            total_bytes: media.bytes.len() as u64,
            bytes_b64: base64::engine::general_purpose::STANDARD.encode(&media.bytes[start..end]),
        })
    }

    /// A consumer's attachment: stored under a new id, which is returned with the digest.
    pub fn consumer_upload(&self, mime_type: &str, bytes: Vec<u8>) -> MediaView {
        let id = new_media_id();
        self.insert(id.clone(), mime_type.to_string(), bytes);
        self.view(&id).unwrap_or(MediaView {
            id,
            mime_type: mime_type.to_string(),
            sha256: String::new(),
            size: 0,
        })
    }

    fn insert(&self, id: String, mime_type: String, bytes: Vec<u8>) {
        let sha256 = sha256_hex(&bytes);
        self.mark(&id);
        self.files().insert(
            id,
            StoredMedia {
                mime_type,
                sha256,
                bytes,
                created_ms: crate::base::clock::now_epoch_ms(),
            },
        );
    }

    fn mark(&self, id: &str) {
        self.dirty
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.to_string());
    }

    /// The ids changed since the last call.
    pub fn take_dirty(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.dirty.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The stored form of file `id`; `None` once it is gone.
    pub fn record(&self, id: &str) -> Option<MediaRecord> {
        self.files().get(id).map(|m| MediaRecord {
            mime_type: m.mime_type.clone(),
            sha256: m.sha256.clone(),
            bytes_b64: base64::engine::general_purpose::STANDARD.encode(&m.bytes),
            created_ms: m.created_ms,
        })
    }

    /// Puts back a stored file; false when its bytes do not decode.
    pub fn restore(&self, id: &str, record: MediaRecord) -> bool {
        let Ok(bytes) = decode(&record.bytes_b64) else {
            return false;
        };
        let media = StoredMedia {
            mime_type: record.mime_type,
            sha256: record.sha256,
            bytes,
            created_ms: record.created_ms,
        };
        self.files().insert(id.to_string(), media);
        true
    }

    /// Forgets the files stored before `oldest_ms`.
    pub fn expire(&self, oldest_ms: i64) {
        let mut files = self.files();
        let old: Vec<String> = files
            .iter()
            .filter(|(_, m)| m.created_ms < oldest_ms)
            .map(|(id, _)| id.clone())
            .collect();
        for id in old {
            files.remove(&id);
            self.mark(&id);
        }
    }

    pub fn view(&self, id: &str) -> Option<MediaView> {
        self.files().get(id).map(|m| MediaView {
            id: id.to_string(),
            mime_type: m.mime_type.clone(),
            sha256: m.sha256.clone(),
            size: m.bytes.len(),
        })
    }

    pub fn get(&self, id: &str) -> Option<StoredMedia> {
        self.files().get(id).cloned()
    }
}

pub fn decode(bytes_b64: &str) -> Result<Vec<u8>, NetError> {
    base64::engine::general_purpose::STANDARD
        .decode(bytes_b64)
        .map_err(|e| invalid_parameter(format!("media bytes are not base64: {e}")))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::base::ids::hex(digest(&SHA256, bytes).as_ref())
}

/// A UUID-shaped random id, like the media ids of the API.
fn new_media_id() -> String {
    let b: [u8; 16] = rand::thread_rng().gen();
    let h = crate::base::ids::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Inbound message types whose object is a media file.
pub const MEDIA_TYPES: &[&str] = &["image", "audio", "voice", "video", "document", "sticker"];

/// A consumer's media message from the control API: the file is given inline
/// (`{"data_b64": "...", "mime_type": "image/jpeg", "caption": ...}`) or by the id of an earlier
/// `POST /control/media`. Either way the object that travels carries `id`, `mime_type` and
/// `sha256`, as the real network's media messages do.
pub fn attach_consumer_media(
    store: &MediaStore,
    message: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), String> {
    let Some(kind) = message
        .get("type")
        .and_then(|t| t.as_str())
        .map(str::to_string)
    else {
        return Ok(());
    };
    if !MEDIA_TYPES.contains(&kind.as_str()) {
        return Ok(());
    }
    let object = message
        .get_mut(&kind)
        .and_then(|o| o.as_object_mut())
        .ok_or_else(|| format!("'{kind}' must be an object"))?;
    attach_object(store, &kind, object)
}

/// Media types a click-to-WhatsApp referral may carry.
pub const REFERRAL_MEDIA_TYPES: &[&str] = &["image", "video"];

/// The optional `referral` of a consumer's message (spec onprem-messaging §7.4, "Referral"): an
/// object, whose `image` or `video` is given like a media message's file and then travels with
/// `id`, `mime_type` and `sha256`. Its other keys travel as given.
pub fn attach_referral_media(
    store: &MediaStore,
    message: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), String> {
    let Some(referral) = message.get_mut("referral") else {
        return Ok(());
    };
    let referral = referral
        .as_object_mut()
        .ok_or_else(|| "'referral' must be an object".to_string())?;
    for kind in REFERRAL_MEDIA_TYPES {
        if let Some(media) = referral.get_mut(*kind) {
            let object = media
                .as_object_mut()
                .ok_or_else(|| format!("'referral.{kind}' must be an object"))?;
            attach_object(store, kind, object)?;
        }
    }
    Ok(())
}

fn attach_object(
    store: &MediaStore,
    kind: &str,
    object: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), String> {
    let view = match object.remove("data_b64") {
        Some(serde_json::Value::String(data)) => {
            let bytes = decode(&data).map_err(|e| e.details.unwrap_or(e.title))?;
            let mime = object
                .get("mime_type")
                .and_then(|m| m.as_str())
                .ok_or_else(|| format!("'{kind}.mime_type' is required with data_b64"))?;
            store.consumer_upload(mime, bytes)
        }
        Some(_) => return Err("data_b64 must be a string".to_string()),
        None => {
            let id = object
                .get("id")
                .and_then(|i| i.as_str())
                .ok_or_else(|| format!("'{kind}' needs data_b64 or the id of an uploaded file"))?;
            store.view(id).ok_or_else(|| format!("no media '{id}'"))?
        }
    };
    object.insert("id".into(), view.id.into());
    object.insert("mime_type".into(), view.mime_type.into());
    object.insert("sha256".into(), view.sha256.into());
    Ok(())
}

/// A new identity hash: 8 random bytes in base64, the shape of the API's `hash` values.
pub fn new_identity_hash() -> String {
    let b: [u8; 8] = rand::thread_rng().gen();
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn referral_media_is_stored_and_named_by_id() {
        let store = MediaStore::default();
        let mut message = serde_json::json!({"type": "text", "text": {"body": "hi"},
            "referral": {"headline": "Ad", "image": {"mime_type": "image/jpeg", "data_b64": b64(b"jpeg")}}})
        .as_object()
        .cloned()
        .unwrap();
        attach_referral_media(&store, &mut message).unwrap();
        let image = &message["referral"]["image"];
        assert_eq!(image["sha256"], sha256_hex(b"jpeg"));
        assert_eq!(
            store.get(image["id"].as_str().unwrap()).unwrap().bytes,
            b"jpeg"
        );
        assert_eq!(message["referral"]["headline"], "Ad");
        let mut bad = serde_json::json!({"type": "text", "referral": "ad"})
            .as_object()
            .cloned()
            .unwrap();
        assert!(attach_referral_media(&store, &mut bad).is_err());
    }

    #[test]
    fn chunked_upload_is_checked_and_downloadable() {
        let store = MediaStore::default();
        store.upload_chunk("m1", 0, &b64(b"hello ")).unwrap();
        assert!(store.upload_chunk("m1", 3, &b64(b"x")).is_err());
        store.upload_chunk("m1", 6, &b64(b"world")).unwrap();
        let sha = sha256_hex(b"hello world");
        assert!(store
            .upload_done("m1", "text/plain", &"0".repeat(64))
            .is_err());
        store.upload_chunk("m1", 0, &b64(b"hello world")).unwrap();
        store.upload_done("m1", "text/plain", &sha).unwrap();
        assert_eq!(store.view("m1").unwrap().sha256, sha);
        let Response::MediaChunk {
            total_bytes,
            bytes_b64,
            ..
        } = store.download_chunk("m1", 6, 100).unwrap()
        else {
            panic!("not a chunk");
        };
        assert_eq!(
            (total_bytes, decode(&bytes_b64).unwrap()),
            (11, b"world".to_vec())
        );
        assert_eq!(store.download_chunk("nope", 0, 1).unwrap_err().code, 1006);
    }
}
