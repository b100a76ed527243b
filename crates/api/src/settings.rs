//! Application settings (spec onprem-rest §8.1–8.4, onprem-messaging §7.1): the whole field table
//! with its defaults, the JSON shape `GET /v1/settings/application` returns, and the merge and
//! validation rules of `PATCH`.
//!
//! Choices the spec leaves open (ranges, accepted spellings) are listed in docs/compatibility.md.

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::error::{ApiError, ErrorCode};
use crate::status::MessageStatus;

mod validate;
use validate::*;
pub use validate::{is_http_url, no_valid_parameters};

pub const DEFAULT_CALLBACK_BACKOFF_DELAY_MS: u64 = 3_000;
pub const DEFAULT_MAX_CALLBACK_BACKOFF_DELAY_MS: u64 = 900_000;
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: u32 = 6;
/// The only values On-Prem accepts for `webhooks.max_concurrent_requests`.
pub const ALLOWED_MAX_CONCURRENT_REQUESTS: [u32; 4] = [6, 12, 18, 24];
pub const DEFAULT_HEARTBEAT_INTERVAL_SECS: u64 = 5;
pub const DEFAULT_UNHEALTHY_INTERVAL_SECS: u64 = 30;

/// Settings On-Prem applies only after a coreapp restart (spec §8.2). Ours apply
/// `webhooks.max_concurrent_requests` live, and `db_garbagecollector_enable` from the next
/// scheduled collection; the others have no runtime effect.
pub const RESTART_REQUIRED: [&str; 4] = [
    "callback_persist",
    "pass_through",
    "db_garbagecollector_enable",
    "webhooks.max_concurrent_requests",
];

/// Back-off delays above a day would outlast Meta's described retry horizon (about 24 h).
const MAX_DELAY_MS: u64 = 86_400_000;
const MAX_HEARTBEAT_INTERVAL_SECS: u64 = 3_600;
const MAX_UNHEALTHY_INTERVAL_SECS: u64 = 86_400;
use crate::limits::{PAGER_CHARS as MAX_PAGER_CHARS, URL_CHARS as MAX_URL_CHARS};

/// Values `log_level` accepts (the webapp logger's names, spec §8.3).
const LOG_LEVELS: [&str; 5] = ["debug", "info", "warn", "warning", "error"];

/// Keys the older webapp accepted (internal or legacy): recognised so a PATCH carrying them
/// succeeds, otherwise ignored.
const IGNORED_LEGACY_KEYS: [&str; 9] = [
    "webcallbacks",
    "contacts_api_rate_limit",
    "control_api_rate_limit",
    "healthcheck_api_rate_limit",
    "messaging_api_rate_limit",
    "contacts_scrape_rate_limit",
    "unique_message_sends_rate_limit",
    "dogfood_user_limit",
    "axolotl_context_striping_logical_core_multiplier",
];

/// Legacy keys the older webapp checked to be JSON booleans before ignoring them.
const IGNORED_LEGACY_BOOLEANS: [&str; 2] = [
    "allow_nonexistent_users",
    "template_send_side_validation_disabled",
];

/// Inbound media kinds `media.auto_download` may list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    Image,
    Video,
    Voice,
    Sticker,
    Audio,
    Document,
}

impl MediaType {
    /// In the order of the v3.0 docs sample, which is also the default list.
    pub const ALL: [MediaType; 6] = [
        MediaType::Image,
        MediaType::Video,
        MediaType::Voice,
        MediaType::Sticker,
        MediaType::Audio,
        MediaType::Document,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::Video => "video",
            MediaType::Voice => "voice",
            MediaType::Sticker => "sticker",
            MediaType::Audio => "audio",
            MediaType::Document => "document",
        }
    }

    pub fn parse(name: &str) -> Option<MediaType> {
        MediaType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

/// `webhooks.message`: per-status switches (v2.41.2+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageWebhookSwitches {
    /// `None` until set: the legacy `sent_status` decides meanwhile.
    pub sent: Option<bool>,
    pub delivered: bool,
    pub read: bool,
}

impl Default for MessageWebhookSwitches {
    fn default() -> Self {
        MessageWebhookSwitches {
            sent: None,
            delivered: true,
            read: true,
        }
    }
}

/// `webhooks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// `""` disables delivery (the queue is kept).
    pub url: String,
    pub max_concurrent_requests: u32,
    pub message: MessageWebhookSwitches,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            url: String::new(),
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            message: MessageWebhookSwitches::default(),
        }
    }
}

/// `media`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSettings {
    pub auto_download: Vec<MediaType>,
}

impl Default for MediaSettings {
    fn default() -> Self {
        MediaSettings {
            auto_download: MediaType::ALL.to_vec(),
        }
    }
}

/// `garbagecollector_enable`; `messages` is also what the legacy `db_garbagecollector_enable`
/// reads and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GarbageCollectorSettings {
    pub media: bool,
    pub messages: bool,
}

impl Default for GarbageCollectorSettings {
    fn default() -> Self {
        GarbageCollectorSettings {
            media: false,
            messages: true,
        }
    }
}

/// Every application setting of spec §8.3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationSettings {
    pub callback_backoff_delay_ms: u64,
    pub max_callback_backoff_delay_ms: u64,
    /// Restart required (On-Prem); our outbox is always durable, this is reported only.
    pub callback_persist: bool,
    pub webhooks: WebhookSettings,
    /// Deprecated by `webhooks.message.sent`, which wins when set.
    pub sent_status: bool,
    pub media: MediaSettings,
    pub garbagecollector_enable: GarbageCollectorSettings,
    /// Deprecated; since v2.35 it cannot be turned on, so it is always false.
    pub pass_through: bool,
    pub heartbeat_interval: u64,
    pub unhealthy_interval: u64,
    pub notify_user_change_number: bool,
    pub show_security_notifications: bool,
    /// Read-only: the registered number, `""` before registration. PATCH ignores it.
    pub wa_id: String,
    pub skip_referral_media_download: bool,
    pub webhook_payload_conversation_pricingmodel_disabled: bool,
    pub axolotl_context_striping_disabled: bool,
    pub verbose_logging: bool,
    /// One of `debug`, `info`, `warn`, `warning`, `error` (stored lower-case).
    pub log_level: String,
    /// Unset by default; omitted from GET until set.
    pub on_call_pager: Option<String>,
}

impl Default for ApplicationSettings {
    fn default() -> Self {
        ApplicationSettings {
            callback_backoff_delay_ms: DEFAULT_CALLBACK_BACKOFF_DELAY_MS,
            max_callback_backoff_delay_ms: DEFAULT_MAX_CALLBACK_BACKOFF_DELAY_MS,
            callback_persist: true,
            webhooks: WebhookSettings::default(),
            // The v2.33.4 install showed true (older docs said false).
            sent_status: true,
            media: MediaSettings::default(),
            garbagecollector_enable: GarbageCollectorSettings::default(),
            pass_through: false,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL_SECS,
            unhealthy_interval: DEFAULT_UNHEALTHY_INTERVAL_SECS,
            notify_user_change_number: true,
            show_security_notifications: false,
            wa_id: String::new(),
            skip_referral_media_download: false,
            webhook_payload_conversation_pricingmodel_disabled: false,
            axolotl_context_striping_disabled: false,
            verbose_logging: false,
            log_level: "info".to_string(),
            on_call_pager: None,
        }
    }
}

impl ApplicationSettings {
    /// Merges a PATCH body: only the fields present change, nested objects are merged, unknown
    /// keys are ignored. Every present field is validated first; on any error nothing changes.
    pub fn apply_patch(&mut self, patch: &Value) -> Result<(), ApiError> {
        let Value::Object(fields) = patch else {
            return Err(no_valid_parameters());
        };
        let mut next = self.clone();
        // Sorted, so the first error reported does not depend on the client's key order, and the
        // legacy `db_garbagecollector_enable` is applied before `garbagecollector_enable`.
        let mut names: Vec<&String> = fields.keys().collect();
        names.sort();
        let mut recognised = false;
        for name in names {
            if let Some(value) = fields.get(name) {
                recognised |= next.apply_field(name, value)?;
            }
        }
        if !recognised {
            return Err(no_valid_parameters());
        }
        next.check_consistency()?;
        *self = next;
        Ok(())
    }

    /// Reads settings in the shape of [`ApplicationSettings::to_json`], strictly: any invalid
    /// field is an error. An empty object gives the defaults.
    pub fn from_json(value: &Value) -> Result<ApplicationSettings, ApiError> {
        let mut settings = ApplicationSettings::default();
        match settings.apply_patch(value) {
            Ok(()) => {}
            // An object with no settings in it (e.g. `{}`) simply means "all defaults".
            Err(error) if value.is_object() && is_no_valid_parameters(&error) => {}
            Err(error) => return Err(error),
        }
        settings.wa_id = stored_wa_id(value);
        Ok(settings)
    }

    /// Reads stored settings leniently: a field that no longer validates (hand-edited row, rules
    /// tightened by an upgrade) keeps its default instead of losing every other setting. Returns
    /// the errors of the fields it skipped, for the caller to log.
    pub fn from_stored(value: &Value) -> (ApplicationSettings, Vec<ApiError>) {
        if let Ok(settings) = ApplicationSettings::from_json(value) {
            return (settings, Vec::new());
        }
        // Field by field, so one bad field costs only itself.
        let mut settings = ApplicationSettings::default();
        let mut skipped = Vec::new();
        let Value::Object(fields) = value else {
            return (settings, vec![no_valid_parameters()]);
        };
        let mut entries: Vec<(&String, &Value)> = fields.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        for (name, field) in entries {
            let mut one = Map::new();
            one.insert(name.clone(), field.clone());
            match settings.apply_patch(&Value::Object(one)) {
                Ok(()) => {}
                // wa_id and unknown keys are not settings; they are not errors either.
                Err(error) if is_no_valid_parameters(&error) => {}
                Err(error) => skipped.push(error),
            }
        }
        settings.wa_id = stored_wa_id(value);
        (settings, skipped)
    }

    /// The `settings.application` object of `GET /v1/settings/application`.
    pub fn to_json(&self) -> Value {
        let mut object = json!({
            "callback_backoff_delay_ms": self.callback_backoff_delay_ms,
            "max_callback_backoff_delay_ms": self.max_callback_backoff_delay_ms,
            "callback_persist": self.callback_persist,
            "webhooks": self.webhooks.to_json(),
            "sent_status": self.sent_status,
            "media": {
                "auto_download": self.media.auto_download.iter().map(|kind| kind.as_str()).collect::<Vec<_>>(),
            },
            "garbagecollector_enable": {
                "media": self.garbagecollector_enable.media,
                "messages": self.garbagecollector_enable.messages,
            },
            "db_garbagecollector_enable": self.garbagecollector_enable.messages,
            "pass_through": self.pass_through,
            "heartbeat_interval": self.heartbeat_interval,
            "unhealthy_interval": self.unhealthy_interval,
            "notify_user_change_number": self.notify_user_change_number,
            "show_security_notifications": self.show_security_notifications,
            "wa_id": self.wa_id,
            "skip_referral_media_download": self.skip_referral_media_download,
            "webhook_payload_conversation_pricingmodel_disabled": self.webhook_payload_conversation_pricingmodel_disabled,
            "axolotl_context_striping_disabled": self.axolotl_context_striping_disabled,
            "verbose_logging": self.verbose_logging,
            "log_level": self.log_level,
        });
        if let (Some(pager), Some(fields)) = (&self.on_call_pager, object.as_object_mut()) {
            fields.insert("on_call_pager".to_string(), json!(pager));
        }
        object
    }

    /// Where to post webhooks; `None` while delivery is disabled.
    pub fn webhook_url(&self) -> Option<&str> {
        Some(self.webhooks.url.as_str()).filter(|url| !url.is_empty())
    }

    pub fn max_concurrent_callbacks(&self) -> usize {
        usize::try_from(self.webhooks.max_concurrent_requests)
            .unwrap_or(DEFAULT_MAX_CONCURRENT_REQUESTS as usize)
    }

    /// The first retry delay and the cap of the back-off.
    pub fn callback_backoff(&self) -> (Duration, Duration) {
        (
            Duration::from_millis(self.callback_backoff_delay_ms),
            Duration::from_millis(self.max_callback_backoff_delay_ms),
        )
    }

    /// Whether a status webhook of this kind is emitted. `failed` (and anything unknown) always is:
    /// no switch exists for it, and a business must learn about failures.
    pub fn status_webhook_enabled(&self, status: MessageStatus) -> bool {
        let switches = &self.webhooks.message;
        match status {
            MessageStatus::Sent => switches.sent.unwrap_or(self.sent_status),
            MessageStatus::Delivered => switches.delivered,
            MessageStatus::Read => switches.read,
            // No switch turns these off; a pending message has no webhook at all.
            MessageStatus::Failed | MessageStatus::Warning | MessageStatus::Deleted => true,
            MessageStatus::Pending => false,
        }
    }

    /// Whether inbound media of this kind (`image`, `voice`, ...) is downloaded before its webhook.
    pub fn auto_downloads(&self, media_type: &str) -> bool {
        MediaType::parse(media_type).is_some_and(|kind| self.media.auto_download.contains(&kind))
    }

    /// Applies one top-level field; returns whether the key is a recognised setting.
    fn apply_field(&mut self, name: &str, value: &Value) -> Result<bool, ApiError> {
        match name {
            "callback_backoff_delay_ms" => {
                self.callback_backoff_delay_ms = integer_in(name, value, 1, MAX_DELAY_MS)?;
            }
            "max_callback_backoff_delay_ms" => {
                self.max_callback_backoff_delay_ms = integer_in(name, value, 1, MAX_DELAY_MS)?;
            }
            "webhooks" => self.webhooks.apply(value)?,
            "media" => self.media.apply(value)?,
            "garbagecollector_enable" => self.garbagecollector_enable.apply(value)?,
            "db_garbagecollector_enable" => {
                self.garbagecollector_enable.messages = boolean(name, value)?;
            }
            "pass_through" => self.pass_through = pass_through(value)?,
            "heartbeat_interval" => {
                self.heartbeat_interval = integer_in(name, value, 1, MAX_HEARTBEAT_INTERVAL_SECS)?;
            }
            "unhealthy_interval" => {
                self.unhealthy_interval = integer_in(name, value, 1, MAX_UNHEALTHY_INTERVAL_SECS)?;
            }
            "log_level" => self.log_level = log_level(value)?,
            "on_call_pager" => self.on_call_pager = on_call_pager(value)?,
            _ => return self.apply_flag(name, value),
        }
        Ok(true)
    }

    /// The plain boolean settings, and the legacy keys that are accepted and ignored.
    fn apply_flag(&mut self, name: &str, value: &Value) -> Result<bool, ApiError> {
        let flag = match name {
            "callback_persist" => &mut self.callback_persist,
            "sent_status" => &mut self.sent_status,
            "notify_user_change_number" => &mut self.notify_user_change_number,
            "show_security_notifications" => &mut self.show_security_notifications,
            "skip_referral_media_download" => &mut self.skip_referral_media_download,
            "webhook_payload_conversation_pricingmodel_disabled" => {
                &mut self.webhook_payload_conversation_pricingmodel_disabled
            }
            "axolotl_context_striping_disabled" => &mut self.axolotl_context_striping_disabled,
            "verbose_logging" => &mut self.verbose_logging,
            _ if IGNORED_LEGACY_BOOLEANS.contains(&name) => {
                boolean(name, value)?;
                return Ok(true);
            }
            _ => return Ok(IGNORED_LEGACY_KEYS.contains(&name)),
        };
        *flag = boolean(name, value)?;
        Ok(true)
    }

    /// Rules across fields, checked on the merged result.
    fn check_consistency(&self) -> Result<(), ApiError> {
        // A node cannot be declared unhealthy before it could even miss one heartbeat.
        if self.unhealthy_interval < self.heartbeat_interval {
            return Err(ApiError::invalid_parameter(
                "unhealthy_interval",
                &self.unhealthy_interval.to_string(),
            ));
        }
        // A cap below the first delay would retry a failing receiver faster than asked.
        if self.max_callback_backoff_delay_ms < self.callback_backoff_delay_ms {
            return Err(ApiError::new(
                ErrorCode::ParameterValueInvalid,
                format!(
                    "Parameter 'max_callback_backoff_delay_ms' ({}) must be at least 'callback_backoff_delay_ms' ({})",
                    self.max_callback_backoff_delay_ms, self.callback_backoff_delay_ms
                ),
            ));
        }
        Ok(())
    }
}

impl WebhookSettings {
    fn apply(&mut self, value: &Value) -> Result<(), ApiError> {
        let fields = object("webhooks", value)?;
        if let Some(url) = fields.get("url") {
            self.url = webhook_url(url)?;
        }
        if let Some(max) = fields.get("max_concurrent_requests") {
            self.max_concurrent_requests = max_concurrent_requests(max)?;
        }
        if let Some(message) = fields.get("message") {
            self.message.apply(message)?;
        }
        Ok(())
    }

    fn to_json(&self) -> Value {
        let mut message = json!({
            "delivered": self.message.delivered,
            "read": self.message.read,
        });
        if let (Some(sent), Some(fields)) = (self.message.sent, message.as_object_mut()) {
            fields.insert("sent".to_string(), json!(sent));
        }
        json!({
            "url": self.url,
            "max_concurrent_requests": self.max_concurrent_requests,
            "message": message,
        })
    }
}

impl MessageWebhookSwitches {
    fn apply(&mut self, value: &Value) -> Result<(), ApiError> {
        let fields = object("webhooks.message", value)?;
        if let Some(sent) = fields.get("sent") {
            self.sent = Some(boolean("webhooks.message.sent", sent)?);
        }
        if let Some(delivered) = fields.get("delivered") {
            self.delivered = boolean("webhooks.message.delivered", delivered)?;
        }
        if let Some(read) = fields.get("read") {
            self.read = boolean("webhooks.message.read", read)?;
        }
        Ok(())
    }
}

impl MediaSettings {
    fn apply(&mut self, value: &Value) -> Result<(), ApiError> {
        let fields = object("media", value)?;
        if let Some(list) = fields.get("auto_download") {
            self.auto_download = auto_download(list)?;
        }
        Ok(())
    }
}

impl GarbageCollectorSettings {
    fn apply(&mut self, value: &Value) -> Result<(), ApiError> {
        let fields = object("garbagecollector_enable", value)?;
        if let Some(media) = fields.get("media") {
            self.media = boolean("garbagecollector_enable.media", media)?;
        }
        if let Some(messages) = fields.get("messages") {
            self.messages = boolean("garbagecollector_enable.messages", messages)?;
        }
        Ok(())
    }
}

impl serde::Serialize for ApplicationSettings {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for ApplicationSettings {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        ApplicationSettings::from_json(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
