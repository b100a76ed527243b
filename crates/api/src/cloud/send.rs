//! `POST /{version}/{phone-number-id}/messages`: the Cloud body checked for what only Cloud asks
//! (`messaging_product`, a type Cloud knows) and translated into the On-Prem send or mark-read
//! the coreapp answers; the core's answer translated back.
//!
//! The two bodies are nearly the same: Cloud adds `messaging_product`, puts a text's
//! `preview_url` inside `text`, and names a template by name and language alone, where On-Prem
//! also wants its namespace and a language policy.

use super::{check_messaging_product, ids, CloudCode, CloudError, MESSAGING_PRODUCT};
use serde_json::{json, Map, Value};

/// The message types Cloud defines that the core sends; other Cloud types are 131051.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudMessageType {
    Text,
    Image,
    Audio,
    Video,
    Document,
    Sticker,
    Location,
    Contacts,
    Interactive,
    Template,
    Reaction,
}

impl CloudMessageType {
    const ALL: &'static [CloudMessageType] = &[
        CloudMessageType::Text,
        CloudMessageType::Image,
        CloudMessageType::Audio,
        CloudMessageType::Video,
        CloudMessageType::Document,
        CloudMessageType::Sticker,
        CloudMessageType::Location,
        CloudMessageType::Contacts,
        CloudMessageType::Interactive,
        CloudMessageType::Template,
        CloudMessageType::Reaction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CloudMessageType::Text => "text",
            CloudMessageType::Image => "image",
            CloudMessageType::Audio => "audio",
            CloudMessageType::Video => "video",
            CloudMessageType::Document => "document",
            CloudMessageType::Sticker => "sticker",
            CloudMessageType::Location => "location",
            CloudMessageType::Contacts => "contacts",
            CloudMessageType::Interactive => "interactive",
            CloudMessageType::Template => "template",
            CloudMessageType::Reaction => "reaction",
        }
    }

    fn parse(name: &str) -> Option<CloudMessageType> {
        Self::ALL.iter().copied().find(|t| t.as_str() == name)
    }
}

/// What a Cloud messages call asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum CloudRequest {
    Send(CloudSend),
    /// `{"status": "read", "message_id": ...}`.
    MarkRead {
        message_id: String,
    },
}

/// A send, as the body of the On-Prem `POST /v1/messages`.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudSend {
    pub body: Map<String, Value>,
    /// The template a template send names; its namespace is still to be filled in
    /// ([`CloudSend::set_namespace`]), from the templates the core knows.
    pub template: Option<TemplateName>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateName {
    pub name: String,
    pub language: String,
}

/// Fields of a Cloud body that have no On-Prem counterpart and change nothing here.
const CLOUD_ONLY_FIELDS: &[&str] = &["messaging_product", "biz_opaque_callback_data"];
/// The keys of media objects, which may name their media by `id`.
const MEDIA_OBJECTS: &[&str] = &["image", "audio", "video", "document", "sticker"];

/// Checks the Cloud-only rules of `body` and translates it. The rest (recipient, objects of
/// each type, templates) is the core's to check, and its errors come back through the table.
pub fn translate(mut body: Map<String, Value>) -> Result<CloudRequest, CloudError> {
    check_messaging_product(&body)?;
    if body.contains_key("status") {
        return mark_read(&body);
    }
    let kind = message_type(&body)?;
    for field in CLOUD_ONLY_FIELDS {
        body.remove(*field);
    }
    media_ids_to_onprem(&mut body);
    let template = match kind {
        CloudMessageType::Text => {
            move_preview_url(&mut body);
            None
        }
        CloudMessageType::Template => template_name(&mut body),
        _ => None,
    };
    Ok(CloudRequest::Send(CloudSend { body, template }))
}

/// Media objects name a media by Cloud's decimal id wherever they appear (the message itself, a
/// template's header parameter, an interactive header): the core wants the On-Prem id.
fn media_ids_to_onprem(object: &mut Map<String, Value>) {
    for (key, child) in object.iter_mut() {
        if MEDIA_OBJECTS.contains(&key.as_str()) {
            if let Some(Value::String(id)) = child.get_mut("id") {
                *id = ids::onprem_media_id(id);
            }
        }
        media_ids_below(child);
    }
}

fn media_ids_below(value: &mut Value) {
    match value {
        Value::Object(object) => media_ids_to_onprem(object),
        Value::Array(items) => items.iter_mut().for_each(media_ids_below),
        _ => {}
    }
}

fn mark_read(body: &Map<String, Value>) -> Result<CloudRequest, CloudError> {
    if body.get("status") != Some(&Value::String("read".into())) {
        return Err(CloudError::invalid_parameter(
            "Param status must be one of {READ}.",
        ));
    }
    match body.get("message_id") {
        Some(Value::String(id)) if !id.trim().is_empty() => Ok(CloudRequest::MarkRead {
            message_id: id.clone(),
        }),
        None | Some(Value::Null) => Err(CloudError::invalid_parameter(
            "The parameter message_id is required.",
        )),
        Some(_) => Err(CloudError::invalid_parameter(
            "Param message_id must be a non-empty string.",
        )),
    }
}

/// `type`, `text` when absent as in Cloud; a type Cloud has and the core does not send is
/// 131051, anything that is no type name at all 100.
fn message_type(body: &Map<String, Value>) -> Result<CloudMessageType, CloudError> {
    match body.get("type") {
        None | Some(Value::Null) => Ok(CloudMessageType::Text),
        Some(Value::String(name)) => CloudMessageType::parse(name).ok_or_else(|| {
            CloudError::new(
                CloudCode::UnsupportedMessageType,
                format!(
                    "Message type '{}' is not supported on this endpoint.",
                    crate::error::echoed(name)
                ),
            )
        }),
        Some(_) => Err(CloudError::invalid_parameter(
            "Param type must be a string.",
        )),
    }
}

/// Cloud's `text.preview_url` is On-Prem's top-level `preview_url`.
fn move_preview_url(body: &mut Map<String, Value>) {
    let preview = body
        .get_mut("text")
        .and_then(Value::as_object_mut)
        .and_then(|text| text.remove("preview_url"));
    if let Some(preview) = preview {
        body.insert("preview_url".into(), preview);
    }
}

/// The name and language of a template send, and the language policy On-Prem requires
/// (Cloud has only the deterministic one).
fn template_name(body: &mut Map<String, Value>) -> Option<TemplateName> {
    let template = body.get_mut("template")?.as_object_mut()?;
    lower_case_component_types(template);
    let name = template.get("name")?.as_str()?.to_string();
    let language = template.get_mut("language")?.as_object_mut()?;
    let code = language.get("code")?.as_str()?.to_string();
    language
        .entry("policy")
        .or_insert_with(|| Value::String("deterministic".into()));
    Some(TemplateName {
        name,
        language: code,
    })
}

/// Cloud takes a component's `type` and a button's `sub_type` in any case (`HEADER`, `button`,
/// `URL`; clients such as pywa send upper case); On-Prem's names are lower case.
fn lower_case_component_types(template: &mut Map<String, Value>) {
    let Some(Value::Array(components)) = template.get_mut("components") else {
        return;
    };
    for component in components.iter_mut().filter_map(Value::as_object_mut) {
        for field in ["type", "sub_type"] {
            if let Some(Value::String(name)) = component.get_mut(field) {
                *name = name.to_ascii_lowercase();
            }
        }
    }
}

impl CloudSend {
    pub fn set_namespace(&mut self, namespace: &str) {
        if let Some(template) = self.body.get_mut("template").and_then(Value::as_object_mut) {
            template.insert("namespace".into(), Value::String(namespace.into()));
        }
    }

    /// The namespace of the template named, from the core's `GET /v1/templates` list: one with
    /// the same name and language, else one with the same name (the core then answers which
    /// language is missing); `None` when no template has that name.
    pub fn namespace_in(template: &TemplateName, listed: &Value) -> Option<String> {
        let templates = listed["templates"].as_array()?;
        let same_name = || templates.iter().filter(|t| t["name"] == template.name);
        same_name()
            .find(|t| t["language"] == template.language)
            .or_else(|| same_name().next())
            .and_then(|t| t["namespace"].as_str())
            .map(str::to_string)
    }
}

/// 132001 for a template name the core does not know.
pub fn unknown_template(template: &TemplateName) -> CloudError {
    CloudError::new(
        CloudCode::TemplateMissing,
        format!(
            "template name ({}) does not exist in {}",
            crate::error::echoed(&template.name),
            crate::error::echoed(&template.language)
        ),
    )
}

/// The Cloud answer to an accepted send, from the core's On-Prem answer.
pub fn sent_answer(onprem: &Value) -> Value {
    let contacts: Vec<Value> = onprem["contacts"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| json!({"input": c["input"], "wa_id": c["wa_id"]}))
                .collect()
        })
        .unwrap_or_default();
    let messages: Vec<Value> = onprem["messages"]
        .as_array()
        .map(|m| m.iter().map(|m| json!({"id": m["id"]})).collect())
        .unwrap_or_default();
    json!({ "messaging_product": MESSAGING_PRODUCT, "contacts": contacts, "messages": messages })
}

/// The Cloud answer to an accepted mark-as-read.
pub fn read_answer() -> Value {
    json!({ "success": true })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translated(body: Value) -> Result<CloudRequest, CloudError> {
        translate(body.as_object().cloned().unwrap_or_default())
    }

    fn send_of(body: Value) -> CloudSend {
        match translated(body) {
            Ok(CloudRequest::Send(send)) => send,
            other => panic!("not a send: {other:?}"),
        }
    }

    fn code_of(body: Value) -> u32 {
        translated(body).unwrap_err().code.code()
    }

    #[test]
    fn a_text_loses_messaging_product_and_moves_preview_url() {
        let send = send_of(json!({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": "+1 631",
            "type": "text", "text": {"body": "hi", "preview_url": true},
            "context": {"message_id": "gBx"}, "biz_opaque_callback_data": "x"}));
        assert_eq!(
            Value::Object(send.body),
            json!({"recipient_type": "individual", "to": "+1 631", "type": "text",
                   "text": {"body": "hi"}, "preview_url": true, "context": {"message_id": "gBx"}})
        );
        assert_eq!(send.template, None);
    }

    #[test]
    fn cloud_media_ids_become_onprem_ids_wherever_a_media_object_is() {
        let uuid = "f2c25ecc-0c66-49f6-9092-8ec604b08b33";
        let cloud = ids::cloud_media_id(uuid);
        let body = send_of(
            json!({"messaging_product": "whatsapp", "to": "1", "type": "template",
            "template": {"name": "t", "language": {"code": "en"}, "components": [{"type": "header",
                "parameters": [{"type": "image", "image": {"id": cloud}}]}]}}),
        )
        .body;
        let header = &body["template"]["components"][0]["parameters"][0]["image"];
        assert_eq!(header["id"], uuid);
        let body = send_of(
            json!({"messaging_product": "whatsapp", "to": "1", "type": "image",
            "image": {"id": cloud, "caption": "c"}}),
        )
        .body;
        assert_eq!(body["image"], json!({"id": uuid, "caption": "c"}));
        // An On-Prem id and a link stay as they are.
        let body = send_of(
            json!({"messaging_product": "whatsapp", "to": "1", "type": "document",
            "document": {"id": uuid}}),
        )
        .body;
        assert_eq!(body["document"]["id"], uuid);
        let link = json!({"link": "https://example.com/1234"});
        let body = send_of(
            json!({"messaging_product": "whatsapp", "to": "1", "type": "video",
            "video": link.clone()}),
        )
        .body;
        assert_eq!(body["video"], link);
    }

    #[test]
    fn template_component_types_are_lower_cased() {
        let request = json!({
            "messaging_product": "whatsapp", "to": "1", "type": "template",
            "template": {"name": "t", "language": {"code": "en"}, "components": [
                {"type": "HEADER", "parameters": []},
                {"type": "BUTTON", "sub_type": "URL", "index": 1, "parameters": []},
            ]},
        });
        let send = send_of(request);
        let components = &send.body["template"]["components"];
        assert_eq!(components[0]["type"], "header");
        assert_eq!(components[1]["type"], "button");
        assert_eq!(components[1]["sub_type"], "url");
    }

    #[test]
    fn a_template_gets_its_policy_and_namespace() {
        let mut send = send_of(json!({
            "messaging_product": "whatsapp", "to": "1", "type": "template",
            "template": {"name": "hello", "language": {"code": "en_US"},
                         "components": [{"type": "body", "parameters": []}]}}));
        let name = send.template.clone().unwrap();
        assert_eq!(
            name,
            TemplateName {
                name: "hello".into(),
                language: "en_US".into()
            }
        );
        let listed = json!({"templates": [
            {"namespace": "a", "name": "hello", "language": "fr"},
            {"namespace": "b", "name": "hello", "language": "en_US"}]});
        let namespace = CloudSend::namespace_in(&name, &listed).unwrap();
        assert_eq!(namespace, "b");
        send.set_namespace(&namespace);
        assert_eq!(
            send.body["template"],
            json!({"name": "hello", "namespace": "b",
                   "language": {"code": "en_US", "policy": "deterministic"},
                   "components": [{"type": "body", "parameters": []}]})
        );
        let other = TemplateName {
            name: "nope".into(),
            language: "en".into(),
        };
        assert_eq!(CloudSend::namespace_in(&other, &listed), None);
        assert_eq!(unknown_template(&other).code.code(), 132001);
    }

    #[test]
    fn the_read_form_is_a_mark_read() {
        let read = translated(
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": "ABx"}),
        );
        assert_eq!(
            read.unwrap(),
            CloudRequest::MarkRead {
                message_id: "ABx".into()
            }
        );
        assert_eq!(
            code_of(json!({"messaging_product": "whatsapp", "status": "read"})),
            100
        );
        assert_eq!(
            code_of(json!({"messaging_product": "whatsapp", "status": "x", "message_id": "a"})),
            100
        );
    }

    #[test]
    fn cloud_only_rules_answer_cloud_codes() {
        assert_eq!(code_of(json!({"to": "1", "text": {"body": "x"}})), 100);
        assert_eq!(code_of(json!({"messaging_product": "sms", "to": "1"})), 100);
        assert_eq!(code_of(json!({"messaging_product": 1, "to": "1"})), 100);
        assert_eq!(
            code_of(json!({"messaging_product": "whatsapp", "type": 5})),
            100
        );
        assert_eq!(
            code_of(json!({"messaging_product": "whatsapp", "type": "hsm", "hsm": {}})),
            131051
        );
        assert_eq!(
            code_of(json!({"messaging_product": "whatsapp", "type": "order"})),
            131051
        );
    }

    #[test]
    fn the_answer_has_contacts_and_messages() {
        let onprem = json!({"contacts": [{"input": "+1 631", "wa_id": "1631"}],
                            "messages": [{"id": "gBx"}], "meta": {}});
        assert_eq!(
            sent_answer(&onprem),
            json!({"messaging_product": "whatsapp",
                   "contacts": [{"input": "+1 631", "wa_id": "1631"}],
                   "messages": [{"id": "gBx"}]})
        );
        assert_eq!(read_answer(), json!({"success": true}));
    }
}
