//! The Cloud API's webhooks on the same core: the Cloud body of an On-Prem webhook body as the
//! coreapp stores it in its outbox, the `X-Hub-Signature-256` signature of a body, and the URL of
//! the subscription handshake. Pure: no I/O, so the sender decides when and where to post.
//!
//! Cloud wraps every change in `object`/`entry`/`changes` with the business account's id and the
//! number's `metadata`; the objects inside are close to On-Prem's, and only the differences Meta
//! documents are translated (docs/compatibility.md lists where Meta's reference is silent).

use super::ids::{cloud_media_id, phone_number_id, template_id, user_id, waba_id};
use super::{CloudCode, MESSAGING_PRODUCT};
use crate::webhooks::CallbackKind;
use ring::hmac;
use serde_json::{json, Map, Value};

/// The header carrying [`signature`] on every Cloud webhook post.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

/// The `object` of every WhatsApp webhook Cloud posts.
const OBJECT: &str = "whatsapp_business_account";
/// The subscription field of messages, statuses and message errors alike.
const FIELD: &str = "messages";
/// The field of a template status change.
const TEMPLATE_STATUS_FIELD: &str = "message_template_status_update";
/// Where Meta's error objects point (`href`) for the meaning of a code.
const ERROR_CODES_URL: &str =
    "https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes";
/// The statuses Cloud reports; On-Prem's `warning` and `deleted` have no Cloud counterpart.
const CLOUD_STATUSES: &[&str] = &["sent", "delivered", "read", "failed"];
/// Inbound media objects, after `voice` became `audio`.
const MEDIA_TYPES: &[&str] = &["image", "audio", "video", "document", "sticker"];
/// Meta's wording of the unsupported-message error (code 131051) in inbound webhooks, which is
/// not the title of the synchronous 131051 answer.
const UNSUPPORTED_TITLE: &str = "Message type unknown";
const UNSUPPORTED_DETAILS: &str = "Message type is currently not supported.";

/// The Cloud webhook body of an On-Prem webhook body of `kind`, for the installation registered
/// with `business_wa_id`. `None` when Cloud has no webhook for the kind (`Contacts`, `Services`)
/// or the body holds nothing Cloud would report (no messages, only statuses Cloud lacks).
pub fn cloud_body(kind: CallbackKind, onprem: &Value, business_wa_id: &str) -> Option<Value> {
    if kind == CallbackKind::TemplateStatus {
        // Stored in Cloud's shape already: no metadata, a field of its own.
        return Some(envelope(
            business_wa_id,
            onprem.clone(),
            TEMPLATE_STATUS_FIELD,
        ));
    }
    let mut value = match kind {
        CallbackKind::InboundMessage => inbound(onprem, business_wa_id)?,
        CallbackKind::StatusChange => statuses(onprem, business_wa_id)?,
        CallbackKind::Errors => installation_errors(onprem)?,
        // A contacts check and a garbage collection are On-Prem operations Cloud does not have.
        CallbackKind::Contacts | CallbackKind::Services | CallbackKind::TemplateStatus => {
            return None
        }
    };
    value.insert("messaging_product".into(), MESSAGING_PRODUCT.into());
    value.insert(
        "metadata".into(),
        json!({
            "display_phone_number": business_wa_id,
            "phone_number_id": phone_number_id(business_wa_id),
        }),
    );
    Some(envelope(business_wa_id, Value::Object(value), FIELD))
}

fn envelope(business_wa_id: &str, value: Value, field: &str) -> Value {
    json!({
        "object": OBJECT,
        "entry": [{
            "id": waba_id(business_wa_id),
            "changes": [{ "value": value, "field": field }],
        }],
    })
}

/// The Cloud `value` of a template's status change, as the coreapp stores it (the event is the
/// new status; Meta's `reason` is `NONE` unless a refusal names one, which review here never does).
pub fn template_status_value(namespace: &str, name: &str, language: &str, status: &str) -> Value {
    json!({
        "event": status,
        "message_template_id": template_id(namespace, name, language),
        "message_template_name": name,
        "message_template_language": language,
        "reason": "NONE",
    })
}

/// `contacts` and `messages` of an inbound body. Each contact and message carries the sender's
/// business-scoped user id (`user_id`, `from_user_id`), as Cloud's webhooks do since 2026.
fn inbound(onprem: &Value, business: &str) -> Option<Map<String, Value>> {
    let messages = onprem.get("messages")?.as_array()?;
    if messages.is_empty() {
        return None;
    }
    let mut contacts: Vec<Value> = onprem
        .get("contacts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // Cloud reports the identity check on the contact (`identity_key_hash`), not on the message.
    for message in messages {
        let hash = message.pointer("/identity/hash").and_then(Value::as_str);
        let from = message.get("from").and_then(Value::as_str);
        if let (Some(hash), Some(from)) = (hash, from) {
            for contact in contacts.iter_mut().filter(|c| c["wa_id"] == from) {
                if let Some(contact) = contact.as_object_mut() {
                    contact.insert("identity_key_hash".into(), hash.into());
                }
            }
        }
    }
    for contact in contacts.iter_mut() {
        if let Some(wa_id) = contact["wa_id"].as_str().map(str::to_string) {
            contact["user_id"] = user_id(business, &wa_id).into();
        }
    }
    let mut value = Map::new();
    if !contacts.is_empty() {
        value.insert("contacts".into(), Value::Array(contacts));
    }
    let messages = messages.iter().map(|message| {
        let mut message = cloud_message(message);
        if let Some(from) = message["from"].as_str().map(str::to_string) {
            message["from_user_id"] = user_id(business, &from).into();
        }
        message
    });
    value.insert("messages".into(), messages.collect());
    Some(value)
}

/// One inbound message as Cloud shows it; what both APIs share is kept as it is.
fn cloud_message(onprem: &Value) -> Value {
    let Some(object) = onprem.as_object() else {
        return onprem.clone();
    };
    let mut message = object.clone();
    // Moved to the contact as `identity_key_hash` (see `inbound`).
    message.remove("identity");
    if let Some(timestamp) = message.get_mut("timestamp") {
        *timestamp = text(timestamp);
    }
    // Errors on a message are Cloud's error objects; the unknown message's are replaced below.
    if let Some(Value::Array(errors)) = message.get("errors") {
        let errors = errors.iter().map(cloud_error).collect();
        message.insert("errors".into(), errors);
    }
    match message.get("type").and_then(Value::as_str) {
        // Cloud has no voice type: a voice note is audio marked `voice`.
        Some("voice") => {
            let mut audio = match message.remove("voice") {
                Some(Value::Object(voice)) => voice,
                _ => Map::new(),
            };
            audio.insert("voice".into(), true.into());
            message.insert("type".into(), "audio".into());
            message.insert("audio".into(), Value::Object(audio));
        }
        // Cloud marks every audio, so plain audio says it is no voice note.
        Some("audio") => {
            if let Some(Value::Object(audio)) = message.get_mut("audio") {
                audio.entry("voice").or_insert(false.into());
            }
        }
        // On-Prem's unknown message (error 501) is Cloud's unsupported message with 131051. The
        // On-Prem body no longer names the original type, so Cloud's `unsupported` object, which
        // would name it, is left out. 501 is no code of THE table (it would answer 131000), so the
        // form's code is named here rather than looked up.
        Some("unknown") => {
            message.remove("unknown");
            message.insert("type".into(), "unsupported".into());
            message.insert("errors".into(), json!([unsupported_error()]));
        }
        _ => {}
    }
    for media in MEDIA_TYPES {
        // `file` is a path on our media volume: meaningless to a Cloud integration, which
        // downloads by id. Our `status: "undownloaded"` stays: it is the only explanation of a
        // media object without an id.
        if let Some(Value::Object(object)) = message.get_mut(*media) {
            object.remove("file");
            if let Some(Value::String(id)) = object.get_mut("id") {
                *id = cloud_media_id(id);
            }
        }
    }
    Value::Object(message)
}

/// The error of Cloud's unsupported-message webhook.
fn unsupported_error() -> Value {
    error_object(
        CloudCode::UnsupportedMessageType.code(),
        UNSUPPORTED_TITLE,
        UNSUPPORTED_DETAILS,
    )
}

/// `statuses` of a status body, without those Cloud does not report, and `contacts` naming each
/// recipient with its business-scoped user id (also the status's `recipient_user_id`).
fn statuses(onprem: &Value, business: &str) -> Option<Map<String, Value>> {
    let mut statuses: Vec<Value> = onprem
        .get("statuses")?
        .as_array()?
        .iter()
        .filter_map(cloud_status)
        .collect();
    if statuses.is_empty() {
        return None;
    }
    let mut contacts: Vec<Value> = Vec::new();
    for status in statuses.iter_mut() {
        let Some(recipient) = status["recipient_id"].as_str().map(str::to_string) else {
            continue;
        };
        let id = user_id(business, &recipient);
        status["recipient_user_id"] = id.clone().into();
        let contact = json!({ "wa_id": recipient, "user_id": id });
        if !contacts.contains(&contact) {
            contacts.push(contact);
        }
    }
    let mut value = Map::new();
    if !contacts.is_empty() {
        value.insert("contacts".into(), Value::Array(contacts));
    }
    value.insert("statuses".into(), Value::Array(statuses));
    Some(value)
}

/// One status with the fields Cloud's status webhook has, in Cloud's types.
fn cloud_status(onprem: &Value) -> Option<Value> {
    let status = onprem
        .get("status")
        .and_then(Value::as_str)
        .filter(|status| CLOUD_STATUSES.contains(status))?;
    let mut out = Map::new();
    out.insert("id".into(), onprem.get("id")?.clone());
    out.insert("status".into(), status.into());
    if let Some(timestamp) = onprem.get("timestamp") {
        out.insert("timestamp".into(), text(timestamp));
    }
    if let Some(recipient) = onprem.get("recipient_id") {
        out.insert("recipient_id".into(), recipient.clone());
    }
    if let Some(Value::Object(conversation)) = onprem.get("conversation") {
        let mut conversation = conversation.clone();
        // On-Prem writes a number, Cloud a string.
        if let Some(expires) = conversation.get_mut("expiration_timestamp") {
            *expires = text(expires);
        }
        if let Some(origin) = conversation.get_mut("origin") {
            origin["type"] = cloud_category(&origin["type"]);
        }
        out.insert("conversation".into(), Value::Object(conversation));
    }
    if let Some(pricing) = onprem.get("pricing") {
        let mut pricing = pricing.clone();
        pricing["category"] = cloud_category(&pricing["category"]);
        out.insert("pricing".into(), pricing);
    }
    if let Some(Value::Array(errors)) = onprem.get("errors") {
        out.insert("errors".into(), errors.iter().map(cloud_error).collect());
    }
    Some(Value::Object(out))
}

/// Cloud's conversation and pricing category of an On-Prem origin: a conversation the user
/// opened is `service`; one the business opened with a template is `marketing`, the category
/// of most business-initiated conversations (the On-Prem body does not name the template's own
/// category). Cloud no longer knows `user_initiated` or `business_initiated`.
fn cloud_category(onprem: &Value) -> Value {
    match onprem.as_str() {
        Some("user_initiated") => "service".into(),
        Some("business_initiated") => "marketing".into(),
        _ => onprem.clone(),
    }
}

/// `errors` of an installation-level error body.
fn installation_errors(onprem: &Value) -> Option<Map<String, Value>> {
    let errors = onprem.get("errors")?.as_array()?;
    if errors.is_empty() {
        return None;
    }
    let mut value = Map::new();
    value.insert("errors".into(), errors.iter().map(cloud_error).collect());
    Some(value)
}

/// An On-Prem error `{code, title, details?}` as Cloud's webhook error: the table's code, its
/// title as `title` and `message`, and the On-Prem explanation as `error_data.details`.
fn cloud_error(onprem: &Value) -> Value {
    let code = onprem
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|code| u32::try_from(code).ok());
    let cloud = code.map_or(CloudCode::GenericError, CloudCode::for_onprem);
    let details = ["details", "title"]
        .iter()
        .find_map(|key| onprem.get(*key).and_then(Value::as_str))
        .unwrap_or(cloud.title());
    error_object(cloud.code(), cloud.title(), details)
}

fn error_object(code: u32, title: &str, details: &str) -> Value {
    json!({
        "code": code,
        "title": title,
        "message": title,
        "error_data": { "details": details },
        "href": ERROR_CODES_URL,
    })
}

/// A timestamp as Cloud writes it: a string of seconds.
fn text(value: &Value) -> Value {
    match value {
        Value::Number(number) => Value::String(number.to_string()),
        other => other.clone(),
    }
}

fn hmac_key(app_secret: &[u8]) -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, app_secret)
}

/// The `X-Hub-Signature-256` value of `body`: `sha256=` and the lower-case hex HMAC-SHA256 keyed
/// with the app secret, over the exact bytes posted.
pub fn signature(app_secret: &[u8], body: &[u8]) -> String {
    let tag = hmac::sign(&hmac_key(app_secret), body);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for byte in tag.as_ref() {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether `header` is the signature of `body`. The comparison is ring's, in constant time, so a
/// receiver checking posts with it leaks nothing about the expected tag.
pub fn signature_matches(app_secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Some(tag) = decode_hex(hex) else {
        return false;
    };
    hmac::verify(&hmac_key(app_secret), body, &tag).is_ok()
}

/// Hex digits in either case to bytes; `None` for an odd length or a non-hex character.
fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    let digits = hex.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            let high = char::from(pair[0]).to_digit(16)?;
            let low = char::from(pair[1]).to_digit(16)?;
            u8::try_from(high * 16 + low).ok()
        })
        .collect()
}

/// The GET Meta sends to confirm a callback URL: `hub.mode=subscribe`, the verify token and a
/// challenge the endpoint must echo. Any fragment of `callback` stays last.
pub fn verification_url(callback: &str, verify_token: &str, challenge: &str) -> String {
    let (base, fragment) = match callback.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (callback, None),
    };
    let separator = match base.find('?') {
        None => "?",
        // A query that already ends in a separator needs none more.
        Some(_) if base.ends_with('?') || base.ends_with('&') => "",
        Some(_) => "&",
    };
    let mut url = format!(
        "{base}{separator}hub.mode=subscribe&hub.verify_token={}&hub.challenge={}",
        percent_encoded(verify_token),
        percent_encoded(challenge),
    );
    if let Some(fragment) = fragment {
        url.push('#');
        url.push_str(fragment);
    }
    url
}

/// RFC 3986 percent-encoding of a query value: unreserved characters stay, every other byte of
/// the UTF-8 is `%XX`. Hand-written because none of this crate's dependencies offers it.
fn percent_encoded(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX_UPPER[usize::from(byte >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(byte & 0x0f)]));
        }
    }
    out
}

/// RFC 3986 recommends upper-case digits in percent-encodings.
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

#[cfg(test)]
mod tests;
