//! Validation of `POST /v1/messages` for every message type, in the webapp's order (spec
//! onprem-messaging Appendix D): `to` → `type` → `recipient_type` → booleans → empty `ttl` →
//! type-object presence → inner fields → recipient. One file per family of types.

mod contacts;
pub mod fields;
mod interactive;
mod location;
mod media;
mod reaction;
pub mod template;
pub mod ttl;

use fields::{display, optional_object, required_str, Object};
use serde_json::{json, Value};
use template::TemplateSend;
use wa_api::error::echoed;
use wa_api::{phone, ApiError, ErrorCode};

use wa_api::limits::TEXT_BODY_CHARS as MAX_TEXT_CHARS;

/// Every message type of the API.
pub const MESSAGE_TYPES: &[&str] = &[
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "template",
    "hsm",
    "reaction",
];

/// A request that passed validation.
#[derive(Debug)]
pub struct ValidSend {
    pub input: String,
    pub to: String,
    pub msg_type: String,
    /// What goes to the network: `type`, its object, and `preview_url` / `context` when given.
    pub network_message: Value,
    /// For `template` and `hsm`: what to hydrate against the known templates.
    pub template: Option<TemplateSend>,
    /// The requested time to live in seconds (templates and hsm only).
    pub ttl_secs: Option<i64>,
}

pub fn validate(request: &Object, own_number: Option<&str>) -> Result<ValidSend, ApiError> {
    let input = match request.get("to") {
        None | Some(Value::Null) => return Err(ApiError::missing_parameter("to")),
        Some(Value::String(to)) => to.clone(),
        Some(other) => return Err(ApiError::invalid_parameter("to", &other.to_string())),
    };
    let msg_type = match request.get("type") {
        None | Some(Value::Null) => "text".to_string(),
        Some(Value::String(t)) if MESSAGE_TYPES.contains(&t.as_str()) => t.clone(),
        Some(other) => return Err(ApiError::invalid_parameter("type", &display(other))),
    };
    match request.get("recipient_type") {
        None | Some(Value::Null) => {}
        Some(Value::String(r)) if r == "individual" => {}
        Some(other) => {
            return Err(ApiError::invalid_parameter(
                "recipient_type",
                &display(other),
            ))
        }
    }
    let preview_url = boolean(request, "preview_url")?;
    boolean(request, "render_mentions")?;
    let ttl_secs = ttl::parse(request.get("ttl"))?;
    check_type_objects(request, &msg_type)?;
    let (object, template) = type_object(request, &msg_type)?;
    let context = context(request)?;
    let to = recipient(&input, own_number)?;
    // Fields the rules above leave unbounded are bounded here, so no length is decided by the
    // database.
    for (key, value) in request {
        fields::bounded_strings(value, key, MAX_ANY_STRING_CHARS)?;
    }
    let mut network_message = json!({ "type": msg_type, msg_type.as_str(): object });
    if msg_type == "text" {
        network_message["preview_url"] = preview_url.into();
    }
    if let Some(context) = context {
        network_message["context"] = context;
    }
    let is_template = template.is_some();
    Ok(ValidSend {
        input,
        to,
        msg_type,
        network_message,
        template,
        ttl_secs: ttl_secs.filter(|_| is_template),
    })
}

/// A JSON boolean or absent; anything else is 1009.
fn boolean(request: &Object, name: &str) -> Result<bool, ApiError> {
    match request.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(ApiError::invalid_parameter(name, &display(other))),
    }
}

/// The object for the declared type is required; objects of other types are refused.
fn check_type_objects(request: &Object, msg_type: &str) -> Result<(), ApiError> {
    if request.get(msg_type).is_none_or(Value::is_null) {
        return Err(fields::mandatory_for(msg_type, "type", msg_type));
    }
    for other in MESSAGE_TYPES.iter().filter(|t| **t != msg_type) {
        if request.get(*other).is_some_and(|v| !v.is_null()) {
            return Err(fields::not_required_for(other, "type", msg_type));
        }
    }
    Ok(())
}

/// The checked object of the type, and the template a template/hsm send names.
fn type_object(
    request: &Object,
    msg_type: &str,
) -> Result<(Value, Option<TemplateSend>), ApiError> {
    let raw = request.get(msg_type).unwrap_or(&Value::Null);
    if msg_type == "contacts" {
        return Ok((contacts::contacts_array(raw)?, None));
    }
    let object = raw
        .as_object()
        .ok_or_else(|| ApiError::invalid_parameter(msg_type, &display(raw)))?;
    let checked = match msg_type {
        "text" => text_object(object)?,
        "location" => location::location_object(object)?,
        "interactive" => interactive::interactive_object(object)?,
        "reaction" => reaction::reaction_object(object)?,
        "template" => return Ok((raw.clone(), Some(template::template_object(object)?))),
        "hsm" => return Ok((raw.clone(), Some(template::hsm_object(object)?))),
        media => media::media_object(media, object)?,
    };
    Ok((checked, None))
}

fn text_object(text: &Object) -> Result<Value, ApiError> {
    fields::reject(
        text,
        &["id", "caption", "filename", "namespace", "element_name"],
        "type",
        "text",
    )?;
    let body = required_str(text, "body")?;
    if body.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::new(
            ErrorCode::MessageTooLong,
            format!("Message body is longer than {MAX_TEXT_CHARS} characters"),
        ));
    }
    if body.trim().is_empty() {
        return Err(ApiError::invalid_parameter("body", body));
    }
    Ok(json!({ "body": body }))
}

// Longest value of any string field without a rule of its own: far above every documented
// limit, far below what the database holds (one table of limits: wa_api::limits).
use wa_api::limits::ANY_STRING_CHARS as MAX_ANY_STRING_CHARS;

/// Reply-to: `{"message_id": ...}`.
fn context(request: &Object) -> Result<Option<Value>, ApiError> {
    let Some(context) = optional_object(request, "context")? else {
        return Ok(None);
    };
    let id = required_str(context, "message_id")?;
    if id.trim().is_empty() {
        return Err(ApiError::invalid_parameter("message_id", id));
    }
    if id.chars().count() > fields::MAX_MESSAGE_ID_CHARS {
        return Err(fields::too_long("message_id", fields::MAX_MESSAGE_ID_CHARS));
    }
    Ok(Some(json!({ "message_id": id })))
}

fn recipient(input: &str, own_number: Option<&str>) -> Result<String, ApiError> {
    let to = phone::wa_id_of(input).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UserNotValid,
            format!("Recipient '{}' is not a valid WhatsApp user", echoed(input)),
        )
    })?;
    if own_number == Some(to.as_str()) {
        return Err(ApiError::new(
            ErrorCode::BadUser,
            "Cannot send a message to yourself",
        ));
    }
    Ok(to)
}

#[cfg(test)]
mod long_values;

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: Value) -> Result<ValidSend, ApiError> {
        validate(v.as_object().unwrap(), Some("16315550000"))
    }

    fn error(v: Value) -> (u32, String) {
        let e = check(v).unwrap_err();
        (
            e.first_code(),
            e.errors[0].details.clone().unwrap_or_default(),
        )
    }

    #[test]
    fn validation_order_and_wording() {
        assert_eq!(
            error(json!({"type": "x"})),
            (1008, "Missing mandatory parameter 'to'".into())
        );
        assert_eq!(
            error(json!({"to": "1", "type": "x", "recipient_type": "group"})),
            (1009, "Parameter 'type' has invalid value 'x'".into())
        );
        assert_eq!(
            error(json!({"to": "1", "recipient_type": "group", "preview_url": 1})),
            (
                1009,
                "Parameter 'recipient_type' has invalid value 'group'".into()
            )
        );
        assert_eq!(
            error(json!({"to": "1", "preview_url": "yes", "ttl": ""})),
            (
                1009,
                "Parameter 'preview_url' has invalid value 'yes'".into()
            )
        );
        assert_eq!(
            error(json!({"to": "1", "ttl": "", "type": "image"})),
            (1009, "Empty TTL value not allowed".into())
        );
        assert_eq!(
            error(json!({"to": "1", "type": "image"})),
            (
                1008,
                "Parameter 'image' is mandatory for type 'image'".into()
            )
        );
        assert_eq!(
            error(json!({"to": "1", "type": "image", "image": {"id": "a"}, "text": {"body": "x"}})),
            (
                1010,
                "Parameter 'text' is not required for type 'image'".into()
            )
        );
        assert_eq!(
            error(json!({"to": "1", "text": {"body": "x", "caption": "c"}})),
            (
                1010,
                "Parameter 'caption' is not required for type 'text'".into()
            )
        );
        assert_eq!(
            error(json!({"to": "1", "text": {"body": "x"}, "context": {}})),
            (1008, "Missing mandatory parameter 'message_id'".into())
        );
        assert_eq!(error(json!({"to": "abc", "text": {"body": "x"}})).0, 1013);
        assert_eq!(
            error(json!({"to": "+1 631 555 0000", "text": {"body": "x"}})).0,
            1021
        );
        assert_eq!(
            error(json!({"to": "16315550100", "text": {"body": "x".repeat(4097)}})).0,
            1001
        );
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        // 4096 four-byte characters are 16 KiB, still one allowed body.
        let longest = "\u{1f600}".repeat(MAX_TEXT_CHARS);
        assert!(check(json!({"to": "16315550100", "text": {"body": longest}})).is_ok());
        let over = "\u{1f600}".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            error(json!({"to": "16315550100", "text": {"body": over}})).0,
            1001
        );
    }

    #[test]
    fn network_message_carries_type_object_and_context() {
        let send = check(json!({"to": "+1 631 555 0100", "type": "location",
            "location": {"latitude": "1.5", "longitude": 2}, "context": {"message_id": "ABGG1"}}))
        .unwrap();
        assert_eq!(send.to, "16315550100");
        assert_eq!(
            send.network_message,
            json!({"type": "location",
            "location": {"latitude": 1.5, "longitude": 2.0}, "context": {"message_id": "ABGG1"}})
        );
        assert!(send.template.is_none());
    }

    #[test]
    fn ttl_is_kept_for_templates_only() {
        let template = json!({"namespace": "ns", "name": "n", "language": {"policy": "deterministic", "code": "en"}});
        let send = check(
            json!({"to": "16315550100", "type": "template", "template": template, "ttl": "P1D"}),
        )
        .unwrap();
        assert_eq!(send.ttl_secs, Some(86400));
        let text = check(json!({"to": "16315550100", "text": {"body": "x"}, "ttl": 5})).unwrap();
        assert_eq!(text.ttl_secs, None);
    }
}
