//! Application settings (spec onprem-rest §8.1–8.4, onprem-messaging §7.1): the whole field table
//! with its defaults, the JSON shape `GET /v1/settings/application` returns, and the merge and
//! validation rules of `PATCH`.
//!
//! Choices the spec leaves open (ranges, accepted spellings) are listed in docs/compatibility.md.

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::error::{ApiError, ErrorCode};
use crate::status::MessageStatus;

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
const MAX_URL_CHARS: usize = 2_048;
const MAX_PAGER_CHARS: usize = 64;
/// Rejected values are quoted in error details; a whole document is not.
const MAX_SHOWN_CHARS: usize = 64;

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

/// 1009 `No valid parameters provided`: the body has no setting we know.
pub fn no_valid_parameters() -> ApiError {
    ApiError::new(
        ErrorCode::ParameterValueInvalid,
        "No valid parameters provided",
    )
}

fn is_no_valid_parameters(error: &ApiError) -> bool {
    error
        .errors
        .first()
        .and_then(|e| e.details.as_deref())
        .is_some_and(|details| details == "No valid parameters provided")
}

fn stored_wa_id(value: &Value) -> String {
    value
        .get("wa_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn invalid(name: &str, value: &Value) -> ApiError {
    ApiError::invalid_parameter(name, &shown(value))
}

/// Strings are quoted as they are, other JSON values as JSON text; both cut short.
fn shown(value: &Value) -> String {
    let text = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    match text.char_indices().nth(MAX_SHOWN_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

fn object<'a>(name: &str, value: &'a Value) -> Result<&'a Map<String, Value>, ApiError> {
    value.as_object().ok_or_else(|| invalid(name, value))
}

/// Only JSON booleans: `"true"` or `1` are refused, as the original webapp did.
fn boolean(name: &str, value: &Value) -> Result<bool, ApiError> {
    value.as_bool().ok_or_else(|| invalid(name, value))
}

/// A non-negative integer given as a JSON integer or a string of digits (the docs type the
/// back-off delays as strings, clients send both).
fn integer_in(name: &str, value: &Value, min: u64, max: u64) -> Result<u64, ApiError> {
    let parsed = match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) if is_digits(text) => text.parse::<u64>().ok(),
        _ => None,
    };
    parsed
        .filter(|number| (min..=max).contains(number))
        .ok_or_else(|| invalid(name, value))
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

fn max_concurrent_requests(value: &Value) -> Result<u32, ApiError> {
    let name = "webhooks.max_concurrent_requests";
    let number = integer_in(name, value, 1, u64::from(u32::MAX))?;
    u32::try_from(number)
        .ok()
        .filter(|number| ALLOWED_MAX_CONCURRENT_REQUESTS.contains(number))
        .ok_or_else(|| invalid(name, value))
}

fn webhook_url(value: &Value) -> Result<String, ApiError> {
    match value.as_str() {
        Some(url) if url.is_empty() || is_http_url(url) => Ok(url.to_string()),
        _ => Err(invalid("webhooks.url", value)),
    }
}

/// An absolute `http`/`https` URL with a host (and a valid port if one is given). HTTPS is what
/// the docs ask for, but plain HTTP is allowed for local receivers (docs/compatibility.md).
pub fn is_http_url(url: &str) -> bool {
    if url.chars().count() > MAX_URL_CHARS
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    valid_host_port(host_port)
}

fn valid_host_port(host_port: &str) -> bool {
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        // IPv6 literal: `[::1]` or `[::1]:8080`.
        match bracketed.split_once(']') {
            Some((host, "")) => (host, None),
            Some((host, after)) => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return false,
            },
            None => return false,
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    let port_ok =
        port.is_none_or(|port| is_digits(port) && port.parse::<u16>().is_ok_and(|p| p > 0));
    !host.is_empty() && port_ok
}

fn auto_download(value: &Value) -> Result<Vec<MediaType>, ApiError> {
    let name = "media.auto_download";
    let items = value.as_array().ok_or_else(|| invalid(name, value))?;
    let mut kinds = Vec::with_capacity(items.len());
    for item in items {
        let kind = item
            .as_str()
            .and_then(MediaType::parse)
            .ok_or_else(|| invalid(name, item))?;
        // A repeated type means the same as once; keep the list clean for GET.
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

/// Since v2.35 pass-through cannot be turned back on, so only `false` is accepted.
fn pass_through(value: &Value) -> Result<bool, ApiError> {
    match boolean("pass_through", value)? {
        false => Ok(false),
        true => Err(invalid("pass_through", value)),
    }
}

fn log_level(value: &Value) -> Result<String, ApiError> {
    value
        .as_str()
        .map(str::to_ascii_lowercase)
        .filter(|level| LOG_LEVELS.contains(&level.as_str()))
        .ok_or_else(|| invalid("log_level", value))
}

/// A wa_id or a group id (`<creator>-<timestamp>`); `""` unsets it.
fn on_call_pager(value: &Value) -> Result<Option<String>, ApiError> {
    let name = "on_call_pager";
    let text = value.as_str().ok_or_else(|| invalid(name, value))?;
    if text.is_empty() {
        return Ok(None);
    }
    let valid = text.len() <= MAX_PAGER_CHARS
        && text.starts_with(|c: char| c.is_ascii_digit())
        && text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || byte == b'-');
    if valid {
        Ok(Some(text.to_string()))
    } else {
        Err(invalid(name, value))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn details(error: &ApiError) -> (u32, String) {
        (
            error.first_code(),
            error.errors[0].details.clone().unwrap_or_default(),
        )
    }

    fn patched(patch: Value) -> ApplicationSettings {
        let mut settings = ApplicationSettings::default();
        settings.apply_patch(&patch).unwrap();
        settings
    }

    fn rejected(patch: Value) -> (u32, String) {
        let mut settings = ApplicationSettings::default();
        let error = settings.apply_patch(&patch).unwrap_err();
        assert_eq!(error.status, 400);
        assert_eq!(
            settings,
            ApplicationSettings::default(),
            "nothing may change"
        );
        details(&error)
    }

    #[test]
    fn defaults_match_the_field_table() {
        let json = ApplicationSettings::default().to_json();
        assert_eq!(
            json,
            json!({
                "callback_backoff_delay_ms": 3000,
                "max_callback_backoff_delay_ms": 900000,
                "callback_persist": true,
                "webhooks": {
                    "url": "",
                    "max_concurrent_requests": 6,
                    "message": { "delivered": true, "read": true },
                },
                "sent_status": true,
                "media": { "auto_download": ["image", "video", "voice", "sticker", "audio", "document"] },
                "garbagecollector_enable": { "media": false, "messages": true },
                "db_garbagecollector_enable": true,
                "pass_through": false,
                "heartbeat_interval": 5,
                "unhealthy_interval": 30,
                "notify_user_change_number": true,
                "show_security_notifications": false,
                "wa_id": "",
                "skip_referral_media_download": false,
                "webhook_payload_conversation_pricingmodel_disabled": false,
                "axolotl_context_striping_disabled": false,
                "verbose_logging": false,
                "log_level": "info",
            })
        );
    }

    #[test]
    fn webhook_accessors_on_defaults() {
        let settings = ApplicationSettings::default();
        assert_eq!(settings.webhook_url(), None);
        assert_eq!(settings.max_concurrent_callbacks(), 6);
        assert_eq!(
            settings.callback_backoff(),
            (Duration::from_millis(3000), Duration::from_millis(900_000))
        );
        for status in [
            MessageStatus::Sent,
            MessageStatus::Delivered,
            MessageStatus::Read,
            MessageStatus::Failed,
            MessageStatus::Deleted,
        ] {
            assert!(settings.status_webhook_enabled(status), "{status}");
        }
        assert!(settings.auto_downloads("voice"));
        assert!(!settings.auto_downloads("location"));
    }

    #[test]
    fn nested_objects_are_merged() {
        let mut settings = patched(json!({
            "webhooks": { "url": "https://hooks.example.com/wa", "max_concurrent_requests": 12 },
        }));
        settings
            .apply_patch(&json!({ "webhooks": { "message": { "read": false } } }))
            .unwrap();
        settings
            .apply_patch(&json!({ "webhooks": { "message": { "sent": false } } }))
            .unwrap();
        assert_eq!(settings.webhook_url(), Some("https://hooks.example.com/wa"));
        assert_eq!(settings.max_concurrent_callbacks(), 12);
        assert_eq!(
            settings.webhooks.message,
            MessageWebhookSwitches {
                sent: Some(false),
                delivered: true,
                read: false
            }
        );
        settings
            .apply_patch(&json!({ "garbagecollector_enable": { "media": true } }))
            .unwrap();
        assert_eq!(
            settings.garbagecollector_enable,
            GarbageCollectorSettings {
                media: true,
                messages: true
            }
        );
        settings
            .apply_patch(&json!({ "webhooks": { "url": "" } }))
            .unwrap();
        assert_eq!(settings.webhook_url(), None);
        assert_eq!(settings.max_concurrent_callbacks(), 12);
    }

    #[test]
    fn the_postman_example_applies() {
        let settings = patched(json!({
            "callback_backoff_delay_ms": "3000",
            "max_callback_backoff_delay_ms": 900000,
            "callback_persist": true,
            "media": { "auto_download": ["image", "document", "audio"] },
            "webhooks": { "url": "https://hooks.example.com/wa", "max_concurrent_requests": 12 },
            "sent_status": false,
            "db_garbagecollector_enable": false,
        }));
        assert_eq!(
            settings.media.auto_download,
            vec![MediaType::Image, MediaType::Document, MediaType::Audio]
        );
        assert!(!settings.status_webhook_enabled(MessageStatus::Sent));
        assert!(!settings.garbagecollector_enable.messages);
        assert_eq!(settings.to_json()["callback_backoff_delay_ms"], json!(3000));
    }

    #[test]
    fn sent_switch_wins_over_the_legacy_flag() {
        let mut settings = patched(json!({ "sent_status": false }));
        assert!(!settings.status_webhook_enabled(MessageStatus::Sent));
        settings
            .apply_patch(&json!({ "webhooks": { "message": { "sent": true } } }))
            .unwrap();
        assert!(settings.status_webhook_enabled(MessageStatus::Sent));
        assert_eq!(
            settings.to_json()["webhooks"]["message"]["sent"],
            json!(true)
        );
        let settings = patched(json!({ "webhooks": { "message": { "delivered": false } } }));
        assert!(!settings.status_webhook_enabled(MessageStatus::Delivered));
        assert!(settings.status_webhook_enabled(MessageStatus::Failed));
    }

    #[test]
    fn the_legacy_gc_switch_is_an_alias_the_newer_object_overrides() {
        let settings = patched(json!({
            "db_garbagecollector_enable": false,
            "garbagecollector_enable": { "messages": true },
        }));
        assert!(settings.garbagecollector_enable.messages);
        assert_eq!(
            settings.to_json()["db_garbagecollector_enable"],
            json!(true)
        );
    }

    #[test]
    fn nothing_recognised_is_1009() {
        let expected = (1009, "No valid parameters provided".to_string());
        assert_eq!(rejected(json!({})), expected);
        assert_eq!(rejected(json!({ "unknown": 1, "wa_id": "123" })), expected);
        assert_eq!(rejected(json!([1, 2])), expected);
        assert_eq!(rejected(json!("webhooks")), expected);
    }

    #[test]
    fn unknown_keys_are_ignored_next_to_known_ones() {
        let settings = patched(json!({ "verbose_logging": true, "frobnicate": 3 }));
        assert!(settings.verbose_logging);
    }

    #[test]
    fn legacy_keys_are_accepted_and_ignored() {
        let settings = patched(json!({
            "messaging_api_rate_limit": ["15", "54600", "1000000"],
            "contacts_scrape_rate_limit": "1000000",
        }));
        assert_eq!(settings, ApplicationSettings::default());
        assert_eq!(
            rejected(json!({ "allow_nonexistent_users": "yes" })),
            (
                1009,
                "Parameter 'allow_nonexistent_users' has invalid value 'yes'".to_string()
            )
        );
    }

    #[test]
    fn booleans_must_be_json_booleans() {
        assert_eq!(
            rejected(json!({ "sent_status": "true" })),
            (
                1009,
                "Parameter 'sent_status' has invalid value 'true'".to_string()
            )
        );
        assert_eq!(
            rejected(json!({ "callback_persist": 1 })).1,
            "Parameter 'callback_persist' has invalid value '1'"
        );
        assert_eq!(
            rejected(json!({ "webhooks": { "message": { "read": null } } })).1,
            "Parameter 'webhooks.message.read' has invalid value 'null'"
        );
        assert_eq!(
            rejected(json!({ "garbagecollector_enable": { "media": "no" } })).1,
            "Parameter 'garbagecollector_enable.media' has invalid value 'no'"
        );
    }

    #[test]
    fn integers_accept_numbers_and_digit_strings_in_range() {
        let settings = patched(
            json!({ "callback_backoff_delay_ms": "100", "max_callback_backoff_delay_ms": 400 }),
        );
        assert_eq!(
            settings.callback_backoff(),
            (Duration::from_millis(100), Duration::from_millis(400))
        );
        for bad in [
            json!(0),
            json!(-5),
            json!(1.5),
            json!("3s"),
            json!(""),
            json!(true),
            json!(86_400_001),
        ] {
            let (code, text) = rejected(json!({ "callback_backoff_delay_ms": bad }));
            assert_eq!(code, 1009);
            assert!(
                text.starts_with("Parameter 'callback_backoff_delay_ms' has invalid value"),
                "{text}"
            );
        }
    }

    #[test]
    fn max_concurrent_requests_is_one_of_four_values() {
        assert_eq!(
            patched(json!({ "webhooks": { "max_concurrent_requests": "24" } }))
                .max_concurrent_callbacks(),
            24
        );
        for bad in [json!(5), json!(7), json!(0), json!(30), json!("six")] {
            let (_, text) = rejected(json!({ "webhooks": { "max_concurrent_requests": bad } }));
            assert!(
                text.starts_with("Parameter 'webhooks.max_concurrent_requests'"),
                "{text}"
            );
        }
    }

    #[test]
    fn webhook_urls_are_absolute_http_or_https() {
        for good in [
            "https://hooks.example.com/wa?auth=s3cret&id=1",
            "http://127.0.0.1:8080/hook",
            "HTTPS://EXAMPLE.COM",
            "http://[::1]:9000/x",
            "https://user:pw@example.com/",
        ] {
            assert_eq!(
                patched(json!({ "webhooks": { "url": good } })).webhook_url(),
                Some(good)
            );
        }
        for bad in [
            "ftp://example.com",
            "example.com/hook",
            "https://",
            "https:///path",
            "https://example.com:99999/",
            "https://example.com:/",
            "https://exa mple.com",
            "http://[::1/x",
        ] {
            let (_, text) = rejected(json!({ "webhooks": { "url": bad } }));
            assert_eq!(
                text,
                format!("Parameter 'webhooks.url' has invalid value '{bad}'")
            );
        }
        assert_eq!(
            rejected(json!({ "webhooks": { "url": 5 } })).1,
            "Parameter 'webhooks.url' has invalid value '5'"
        );
        assert_eq!(
            rejected(json!({ "webhooks": "https://example.com" })).1,
            "Parameter 'webhooks' has invalid value 'https://example.com'"
        );
    }

    #[test]
    fn auto_download_members_are_checked() {
        let settings =
            patched(json!({ "media": { "auto_download": ["voice", "voice", "image"] } }));
        assert_eq!(
            settings.media.auto_download,
            vec![MediaType::Voice, MediaType::Image]
        );
        assert!(patched(json!({ "media": { "auto_download": [] } }))
            .media
            .auto_download
            .is_empty());
        assert_eq!(
            rejected(json!({ "media": { "auto_download": ["image", "gif"] } })).1,
            "Parameter 'media.auto_download' has invalid value 'gif'"
        );
        assert_eq!(
            rejected(json!({ "media": { "auto_download": "image" } })).1,
            "Parameter 'media.auto_download' has invalid value 'image'"
        );
    }

    #[test]
    fn other_fields_are_validated() {
        assert_eq!(
            rejected(json!({ "pass_through": true })).1,
            "Parameter 'pass_through' has invalid value 'true'"
        );
        assert!(!patched(json!({ "pass_through": false })).pass_through);
        assert_eq!(patched(json!({ "log_level": "DEBUG" })).log_level, "debug");
        assert!(rejected(json!({ "log_level": "loud" }))
            .1
            .contains("'log_level'"));
        assert_eq!(
            patched(json!({ "on_call_pager": "16315551234" })).to_json()["on_call_pager"],
            json!("16315551234")
        );
        assert!(rejected(json!({ "on_call_pager": "call me" }))
            .1
            .contains("'on_call_pager'"));
        assert_eq!(
            rejected(json!({ "heartbeat_interval": 40 })).1,
            "Parameter 'unhealthy_interval' has invalid value '30'"
        );
        let settings = patched(json!({ "heartbeat_interval": 40, "unhealthy_interval": "120" }));
        assert_eq!(
            (settings.heartbeat_interval, settings.unhealthy_interval),
            (40, 120)
        );
    }

    #[test]
    fn one_bad_field_rejects_the_whole_patch() {
        let (_, text) = rejected(json!({
            "webhooks": { "url": "https://ok.example.com" },
            "verbose_logging": "yes",
        }));
        assert_eq!(text, "Parameter 'verbose_logging' has invalid value 'yes'");
    }

    #[test]
    fn long_rejected_values_are_cut_short() {
        let long = "x".repeat(500);
        let (_, text) = rejected(json!({ "log_level": long }));
        assert!(text.len() < 120, "{text}");
        assert!(text.ends_with("...'"), "{text}");
    }

    #[test]
    fn json_round_trips() {
        let mut settings = patched(json!({
            "webhooks": { "url": "https://h.example.com", "max_concurrent_requests": 18, "message": { "sent": false } },
            "media": { "auto_download": ["audio"] },
            "on_call_pager": "123-456",
            "garbagecollector_enable": { "media": true, "messages": false },
        }));
        settings.wa_id = "16315551019".to_string();
        let text = serde_json::to_string(&settings).unwrap();
        let back: ApplicationSettings = serde_json::from_str(&text).unwrap();
        assert_eq!(back, settings);
        let defaults: ApplicationSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(defaults, ApplicationSettings::default());
        assert!(serde_json::from_str::<ApplicationSettings>(r#"{"sent_status":"no"}"#).is_err());
    }

    #[test]
    fn stored_settings_load_leniently() {
        let stored = json!({
            "webhooks": { "url": "https://h.example.com" },
            "sent_status": "garbage",
            "wa_id": "1555",
            "some_future_key": 1,
        });
        let (settings, skipped) = ApplicationSettings::from_stored(&stored);
        assert_eq!(settings.webhook_url(), Some("https://h.example.com"));
        assert!(settings.sent_status);
        assert_eq!(settings.wa_id, "1555");
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].to_string().contains("sent_status"));
    }

    #[test]
    fn stored_settings_keep_fields_that_are_only_valid_together() {
        let saved = patched(json!({ "heartbeat_interval": 40, "unhealthy_interval": 120 }));
        let (loaded, skipped) = ApplicationSettings::from_stored(&saved.to_json());
        assert!(skipped.is_empty());
        assert_eq!(loaded, saved);
        let (loaded, skipped) = ApplicationSettings::from_stored(&json!("not an object"));
        assert_eq!(loaded, ApplicationSettings::default());
        assert_eq!(skipped.len(), 1);
    }
}
