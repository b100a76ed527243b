//! The protocol between a coreapp (client) and wanet (server), carried over TLS.
//!
//! Each frame is a 4-byte big-endian length followed by one JSON [`Frame`]. The client sends
//! [`Frame::Request`]s with ids of its choosing and may have many in flight; the server answers
//! each with a [`Frame::Response`] carrying the same id, in any order. The server also sends
//! [`Frame::Push`]es (inbound messages, receipts, the end-of-backlog marker) which the client
//! acknowledges with [`Frame::Ack`] once it has persisted them: wanet keeps an unacknowledged push
//! and sends it again on the next connection. Either side may send [`Frame::Ping`]; the other
//! answers [`Frame::Pong`]. A side that hears nothing for three heartbeat intervals closes the
//! connection.

pub mod catalogs;
pub mod templates;

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

/// Largest frame either side accepts.
pub const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;

/// Default port of wanet's protocol listener (WhatsApp's chat port).
pub const DEFAULT_PORT: u16 = 5222;

/// Interval at which the client sends `Ping` when idle.
pub const HEARTBEAT_SECS: u64 = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "frame", rename_all = "snake_case")]
pub enum Frame {
    Request {
        id: u64,
        request: Request,
    },
    Response {
        id: u64,
        result: Result<Response, NetError>,
    },
    Push {
        id: u64,
        push: Push,
    },
    Ack {
        id: u64,
    },
    Ping {
        nonce: u64,
    },
    Pong {
        nonce: u64,
    },
}

/// What a business session carries. A single coreapp, and the one coreapp of High
/// Availability, carries the whole number; in Multiconnect each coreapp carries the recipients of
/// one shard (`wa_api::cluster::shard_of`). `epoch` is the cluster lease epoch under which the
/// shard was assigned: the network keeps the newest session of each shard and refuses an older
/// epoch with [`STALE_SHARD_EPOCH`], so two coreapps never carry one shard (fencing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionScope {
    /// Every recipient of the number (single node; High Availability with one shard).
    #[default]
    Whole,
    /// The recipients of shard `index` of `count`, assigned under lease `epoch`.
    Shard { index: u32, count: u32, epoch: i64 },
}

/// Code of the refusal of a session whose shard was assigned again under a newer epoch (the
/// On-Prem "not a primary coreapp" code).
pub const STALE_SHARD_EPOCH: u32 = 1018;

/// Requests a coreapp makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// First request on every connection. Without credentials the session may only register;
    /// with them it is the business's session, and wanet starts pushing its backlog.
    Hello {
        client_version: String,
        credentials: Option<Credentials>,
        /// Which of the business's traffic this session carries (High Availability and
        /// Multiconnect); absent from older clients, which means the whole number.
        #[serde(default)]
        scope: SessionScope,
    },
    /// Ask for a registration code by `sms` or `voice` for `cc` + `phone_number`.
    RequestCode {
        cc: String,
        phone_number: String,
        method: String,
        /// The base64 verified-name certificate minted by wanet's control API.
        cert: String,
        pin: Option<String>,
    },
    /// Submit the 6-digit code; the answer carries the credentials for later sessions.
    Register {
        cc: String,
        phone_number: String,
        code: String,
    },
    /// Message templates of the business (loaded at initialization).
    GetTemplates,
    /// Which of these wa_ids are WhatsApp users.
    CheckContacts { wa_ids: Vec<String> },
    /// Send a message. wanet deduplicates by `id`: a re-send after a crash is accepted again but
    /// delivered to the phone only once.
    SendMessage {
        id: String,
        to: String,
        /// The message object as the API received it (`type`, `text`, `preview_url`, ...).
        message: serde_json::Value,
    },
    /// Tell the sender of an inbound message that the business read it.
    ReadReceipt { message_id: String, to: String },
    /// WhatsApp's own (first-party) sticker packs, with their stickers.
    GetStickerPacks,
    /// The business's public profile as consumers see it; sent on change and after every
    /// (re)connection, replacing what the network held.
    SetProfile { profile: BusinessProfile },
    /// Enable (`Some`) or disable (`None`) two-step verification: re-registering the number then
    /// requires this 6-digit PIN.
    SetTwoStep { pin: Option<String> },
    /// One piece of a media file the business is about to send, at `offset` (chunks keep every
    /// frame far below [`MAX_FRAME_BYTES`] whatever the file's size).
    UploadMediaChunk {
        id: String,
        offset: u64,
        bytes_b64: String,
    },
    /// The last chunk of `id` was sent; the network checks the digest and keeps the file.
    UploadMediaDone {
        id: String,
        mime_type: String,
        sha256: String,
    },
    /// Up to `max_bytes` of media `id` (a consumer's upload) from `offset`.
    DownloadMediaChunk {
        id: String,
        offset: u64,
        max_bytes: u64,
    },
    /// What catalog `catalog_id` holds of these products, for an `interactive` product send
    /// (see [`catalogs`]).
    LookupProducts {
        catalog_id: String,
        product_retailer_ids: Vec<String>,
    },
    /// What the app of consumer `wa_id` can display (asked before a template with buttons).
    GetCapabilities { wa_id: String },
    /// The current identity (security code) of consumer `wa_id`, for
    /// `GET /v1/contacts/{wa_id}/identity` when no change of it has been announced.
    GetIdentity { wa_id: String },
    /// Submit a new template (one translation) for review, as WhatsApp Manager's API does. The
    /// network checks the name, category and components and refuses a name already used in that
    /// language; the answer is the template as kept, usually `PENDING` until review ends.
    CreateTemplate {
        name: String,
        language: String,
        /// `AUTHENTICATION`, `MARKETING` or `UTILITY` ([`templates::TemplateCategory`]); a
        /// string so the network, not the client's decoder, answers an unknown one.
        category: String,
        /// Graph's shape (`HEADER` with a `format`, `BODY`, `FOOTER`, `BUTTONS`).
        components: Vec<serde_json::Value>,
    },
    /// Delete template `name`: only its `language` translation, or every translation when
    /// `None`. Answered `TemplatesDeleted`; 1006 when nothing matched.
    DeleteTemplate {
        name: String,
        #[serde(default)]
        language: Option<String>,
    },
}

/// What consumers see of a business: `about`, the photo and the business profile fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BusinessProfile {
    #[serde(default)]
    pub about: Option<String>,
    /// Base64 of the photo bytes.
    #[serde(default)]
    pub photo: Option<String>,
    /// `address`, `description`, `email`, `vertical`, `websites` as the API stores them.
    #[serde(default)]
    pub business: serde_json::Value,
}

/// Largest media chunk either side puts in one frame (before base64).
pub const MEDIA_CHUNK_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// Digits with country code, e.g. `16315551234`.
    pub phone: String,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    Welcome {
        /// The business's wa_id when the session is authenticated.
        business: Option<String>,
        /// Pushes waiting in the offline store; they follow, then `BacklogDone`.
        backlog: u64,
    },
    CodeSent {
        vname: String,
    },
    /// The number is already registered with the presented certificate; no code needed.
    AlreadyRegistered {
        vname: String,
        credentials: Credentials,
    },
    Registered {
        vname: String,
        credentials: Credentials,
    },
    Templates {
        templates: Vec<serde_json::Value>,
    },
    Contacts {
        results: Vec<ContactResult>,
    },
    /// The network accepted the message: the `sent` status.
    Accepted {
        id: String,
        timestamp: i64,
        duplicate: bool,
    },
    Done,
    /// First-party sticker packs: `{"id","publisher","name","stickers":[{"index","id","emojis"}]}`.
    StickerPacks {
        packs: Vec<serde_json::Value>,
    },
    /// A piece of a media file; `bytes_b64` is empty past the end.
    MediaChunk {
        mime_type: String,
        sha256: String,
        total_bytes: u64,
        bytes_b64: String,
    },
    Products {
        lookup: catalogs::ProductLookup,
    },
    Capabilities {
        wa_id: String,
        /// Whether the app shows the buttons of a template (quick replies, URL and call buttons).
        template_buttons: bool,
    },
    /// The consumer's current identity, as it names it on each of their messages.
    Identity {
        wa_id: String,
        hash: String,
        /// When this identity was created, epoch milliseconds.
        created_timestamp: i64,
    },
    /// The template a `CreateTemplate` added, with the status review gave it so far.
    TemplateCreated {
        template: templates::Template,
    },
    /// How many translations a `DeleteTemplate` removed (at least one).
    TemplatesDeleted {
        count: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactResult {
    pub wa_id: String,
    pub on_whatsapp: bool,
}

/// Something the network tells the business without being asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Push {
    /// A consumer's message to the business.
    Inbound {
        id: String,
        from: String,
        profile_name: String,
        timestamp: i64,
        /// The message object in the webhook shape (`type`, `text`, ...), without `from`/`id`/`timestamp`.
        message: serde_json::Value,
    },
    /// A status of one of the business's messages.
    Receipt {
        message_id: String,
        recipient: String,
        status: ReceiptStatus,
        timestamp: i64,
        error: Option<NetError>,
    },
    /// Everything stored while the business was offline has been pushed.
    BacklogDone,
    /// The throttle that refused this number's sends (429 with `retry_after_ms`) is over:
    /// lifted on appeal, or its length has run. Sends may go again now instead of after the
    /// pause the refusal named. Sent to the sessions connected at that moment and not kept for
    /// later ones: a session that connects afterwards learns it by sending.
    SendingResumed { reason: ResumeReason },
    /// The review or the status of one of the business's templates changed (`APPROVED` after a
    /// submission's review, or `REJECTED`, `PAUSED`, `DISABLED`, ... as WhatsApp Manager decides).
    /// Stored like a message until acknowledged, and carried by one session only.
    TemplateStatus {
        namespace: String,
        name: String,
        language: String,
        status: String,
    },
}

/// Why a throttle ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResumeReason {
    /// Lifted before its end (an appeal; the simulator's control API).
    Lifted,
    /// Its length has run.
    Ended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    Delivered,
    Read,
    Failed,
    /// The message went out, but part of it could not (e.g. some products of a list); the
    /// receipt's error says what. The message's own status does not change.
    Warning,
}

/// An error from the network; `code` is an On-Prem code (e.g. 470, 1013, 1005).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetError {
    pub code: u32,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// For a refusal that passes (a rate limit, 429): the milliseconds after which the same request
    /// may succeed. A field, so the client never parses it out of the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl NetError {
    pub fn new(code: u32, title: impl Into<String>) -> Self {
        NetError {
            code,
            title: title.into(),
            details: None,
            retry_after_ms: None,
        }
    }

    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    pub fn with_retry_after(mut self, retry: std::time::Duration) -> Self {
        self.retry_after_ms = Some(u64::try_from(retry.as_millis()).unwrap_or(u64::MAX));
        self
    }
}

/// tokio codec for [`Frame`]s.
#[derive(Debug)]
pub struct FrameCodec {
    inner: LengthDelimitedCodec,
}

impl Default for FrameCodec {
    fn default() -> Self {
        FrameCodec {
            inner: LengthDelimitedCodec::builder()
                .max_frame_length(MAX_FRAME_BYTES)
                .new_codec(),
        }
    }
}

#[derive(Debug)]
pub enum CodecError {
    Io(std::io::Error),
    Json(serde_json::Error),
}

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodecError::Io(e) => write!(f, "i/o: {e}"),
            CodecError::Json(e) => write!(f, "bad frame: {e}"),
        }
    }
}

impl std::error::Error for CodecError {}

impl From<std::io::Error> for CodecError {
    fn from(e: std::io::Error) -> Self {
        CodecError::Io(e)
    }
}

impl Decoder for FrameCodec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        match self.inner.decode(src)? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(CodecError::Json),
            None => Ok(None),
        }
    }
}

impl Encoder<Frame> for FrameCodec {
    type Error = CodecError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        let json = serde_json::to_vec(&frame).map_err(CodecError::Json)?;
        self.inner.encode(Bytes::from(json), dst)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_through_the_codec() {
        let frames = vec![
            Frame::Request {
                id: 1,
                request: Request::SendMessage {
                    id: "gBxx".into(),
                    to: "16315551234".into(),
                    message: serde_json::json!({"type": "text", "text": {"body": "hi"}}),
                },
            },
            Frame::Response {
                id: 1,
                result: Err(NetError::new(470, "Re-engagement message")),
            },
            Frame::Push {
                id: 7,
                push: Push::BacklogDone,
            },
            Frame::Push {
                id: 8,
                push: Push::SendingResumed {
                    reason: ResumeReason::Lifted,
                },
            },
            Frame::Ack { id: 7 },
            Frame::Ping { nonce: 3 },
        ];
        let mut codec = FrameCodec::default();
        let mut buf = BytesMut::new();
        for f in &frames {
            codec.encode(f.clone(), &mut buf).unwrap();
        }
        for f in frames {
            assert_eq!(codec.decode(&mut buf).unwrap(), Some(f));
        }
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut codec = FrameCodec::default();
        let mut buf = BytesMut::new();
        codec
            .inner
            .encode(Bytes::from_static(b"{nope"), &mut buf)
            .unwrap();
        assert!(codec.decode(&mut buf).is_err());
    }
}
