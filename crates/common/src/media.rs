//! Media files on the shared media volume (spec onprem-messaging §5), used by the webapp (uploads,
//! downloads) and the coreapp (sends, inbound downloads): which MIME types are accepted and how
//! big each kind may be, where a file lives, and a writer that streams a file to disk while
//! hashing it, so no file is ever held in memory whole.

use ring::digest::{Context, SHA256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Largest body `POST /v1/media` accepts (the latest On-Prem limit).
pub const MAX_UPLOAD_BYTES: u64 = 100 * 1024 * 1024;

const MB: u64 = 1024 * 1024;

/// The media kinds of spec §5.3, each with its own MIME types and size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Audio,
    Document,
    Image,
    Video,
    Sticker,
}

impl MediaKind {
    /// The kind a MIME type is sent as; `None` for types WhatsApp does not accept (`image/gif`,
    /// `audio/ogg` without the opus codec, `video/quicktime`, malformed values).
    pub fn of_mime(mime: &str) -> Option<MediaKind> {
        let mime = mime.trim().to_ascii_lowercase();
        let (essence, params) = match mime.split_once(';') {
            Some((essence, params)) => (essence.trim(), params),
            None => (mime.as_str(), ""),
        };
        let (top, sub) = essence.split_once('/')?;
        if top.is_empty() || sub.is_empty() || sub.contains('/') || top.contains(' ') {
            return None;
        }
        match (top, sub) {
            ("image", "jpeg" | "png") => Some(MediaKind::Image),
            ("image", "webp") => Some(MediaKind::Sticker),
            ("audio", "aac" | "mp4" | "mpeg" | "amr") => Some(MediaKind::Audio),
            ("audio", "ogg") if params.replace([' ', '"'], "").contains("codecs=opus") => {
                Some(MediaKind::Audio)
            }
            ("video", "mp4" | "3gpp") => Some(MediaKind::Video),
            ("image" | "audio" | "video", _) => None,
            _ => Some(MediaKind::Document),
        }
    }

    /// Largest file of this kind. Stickers get the animated limit: the size alone cannot tell a
    /// static sticker from an animated one.
    pub fn max_bytes(self) -> u64 {
        match self {
            MediaKind::Audio | MediaKind::Video => 16 * MB,
            MediaKind::Document => 100 * MB,
            MediaKind::Image => 5 * MB,
            MediaKind::Sticker => 500 * 1024,
        }
    }

    /// The limit as the error details say it.
    pub fn limit_text(self) -> String {
        match self {
            MediaKind::Sticker => "500 KB".to_string(),
            other => format!("{} MB", other.max_bytes() / MB),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Document => "document",
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Sticker => "sticker",
        }
    }
}

/// Media ids are UUIDs; anything else could name a path outside the media directory.
pub fn is_media_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// Where the file of media `id` lives (`<media_dir>/shared/<id>`, as the original's volume).
pub fn file_path(media_dir: &Path, id: &str) -> PathBuf {
    media_dir.join("shared").join(id)
}

/// A UUID-shaped id derived from `seed`: the same inbound message always gets the same local
/// media id, so a download repeated after a crash overwrites instead of leaving an orphan.
pub fn derived_id(seed: &str) -> String {
    let h = hex(ring::digest::digest(&SHA256, seed.as_bytes()).as_ref());
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A media file being written: chunks go to a temporary file next to the final one while their
/// SHA-256 is computed; `finish` renames it into place, so a half-written file is never visible
/// under its id.
pub struct MediaWriter {
    file: tokio::fs::File,
    temporary: PathBuf,
    target: PathBuf,
    digest: Context,
    size: u64,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenMedia {
    pub sha256: String,
    pub size: u64,
}

impl MediaWriter {
    pub async fn create(media_dir: &Path, id: &str) -> std::io::Result<MediaWriter> {
        let target = file_path(media_dir, id);
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let temporary = target.with_extension("part");
        let file = tokio::fs::File::create(&temporary).await?;
        Ok(MediaWriter {
            file,
            temporary,
            target,
            digest: Context::new(&SHA256),
            size: 0,
        })
    }

    pub async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.digest.update(chunk);
        self.size += chunk.len() as u64;
        self.file.write_all(chunk).await
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub async fn finish(mut self) -> std::io::Result<WrittenMedia> {
        self.file.flush().await?;
        self.file.sync_all().await?;
        tokio::fs::rename(&self.temporary, &self.target).await?;
        Ok(WrittenMedia {
            sha256: hex(self.digest.finish().as_ref()),
            size: self.size,
        })
    }

    /// Abandons the file.
    pub async fn discard(self) {
        drop(self.file);
        if let Err(e) = tokio::fs::remove_file(&self.temporary).await {
            tracing::warn!("removing {} failed: {e}", self.temporary.display());
        }
    }
}

/// Removes the file of media `id`; a file that is already gone is not an error.
pub async fn remove_file(media_dir: &Path, id: &str) -> std::io::Result<()> {
    match tokio::fs::remove_file(file_path(media_dir, id)).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types_map_to_the_kinds_of_the_spec_table() {
        let kind = MediaKind::of_mime;
        assert_eq!(kind("image/jpeg"), Some(MediaKind::Image));
        assert_eq!(kind("IMAGE/PNG"), Some(MediaKind::Image));
        assert_eq!(kind("image/webp"), Some(MediaKind::Sticker));
        assert_eq!(kind("audio/ogg; codecs=opus"), Some(MediaKind::Audio));
        assert_eq!(kind("audio/ogg"), None);
        assert_eq!(kind("audio/mpeg"), Some(MediaKind::Audio));
        assert_eq!(kind("video/3gpp"), Some(MediaKind::Video));
        assert_eq!(kind("video/quicktime"), None);
        assert_eq!(kind("image/gif"), None);
        assert_eq!(kind("application/pdf"), Some(MediaKind::Document));
        assert_eq!(kind("text/plain; charset=utf-8"), Some(MediaKind::Document));
        assert_eq!(kind("nonsense"), None);
        assert_eq!(kind("/x"), None);
    }

    #[test]
    fn limits_follow_the_spec_table() {
        assert_eq!(MediaKind::Image.max_bytes(), 5 * MB);
        assert_eq!(MediaKind::Sticker.limit_text(), "500 KB");
        assert_eq!(MediaKind::Video.limit_text(), "16 MB");
        assert_eq!(MediaKind::Document.max_bytes(), MAX_UPLOAD_BYTES);
    }

    #[test]
    fn only_uuid_like_ids_name_files() {
        assert!(is_media_id("f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68"));
        assert!(!is_media_id("../etc/passwd"));
        assert!(!is_media_id(""));
    }

    #[tokio::test]
    async fn writer_hashes_and_renames_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = MediaWriter::create(dir.path(), "abc").await.unwrap();
        writer.write(b"hello ").await.unwrap();
        writer.write(b"world").await.unwrap();
        assert!(!file_path(dir.path(), "abc").exists());
        let written = writer.finish().await.unwrap();
        assert_eq!(written.size, 11);
        assert_eq!(
            written.sha256,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(
            std::fs::read(file_path(dir.path(), "abc")).unwrap(),
            b"hello world"
        );
    }
}
