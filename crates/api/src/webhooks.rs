//! Webhook bodies exactly as On-Prem posted them (spec onprem-messaging §7.3–7.5).

use crate::status::MessageStatus;
use serde_json::{json, Value};

/// The conversation a status belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationInfo {
    pub id: String,
    /// `business_initiated` or `user_initiated`.
    pub origin: String,
    /// Present only on the status that opened the conversation.
    pub expiration_timestamp: Option<i64>,
}

/// One inbound message: top-level `contacts` with the sender's profile, and `messages`.
/// `message` is the type-specific part (`{"type":"text","text":{...}}`).
pub fn inbound_message(
    from: &str,
    profile_name: &str,
    id: &str,
    timestamp_secs: i64,
    message: &Value,
) -> Value {
    let mut object = json!({ "from": from, "id": id, "timestamp": timestamp_secs.to_string() });
    if let (Some(target), Some(extra)) = (object.as_object_mut(), message.as_object()) {
        for (key, value) in extra {
            target.insert(key.clone(), value.clone());
        }
    }
    json!({
        "contacts": [ { "profile": { "name": profile_name }, "wa_id": from } ],
        "messages": [ object ],
    })
}

/// Inbound message types the API delivers as they are (spec onprem-messaging §7.4).
pub const INBOUND_TYPES: &[&str] = &[
    "text",
    "image",
    "audio",
    "voice",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "button",
    "interactive",
    "system",
    "reaction",
    "order",
    "unknown",
];

/// A message of a type the API does not deliver becomes the `unknown` message with error 501,
/// in the form of the real fixture (spec §7.4); anything else is returned unchanged.
pub fn supported_inbound(message: Value) -> Value {
    let known = message["type"]
        .as_str()
        .is_some_and(|t| INBOUND_TYPES.contains(&t) && t != "unknown");
    if known {
        return message;
    }
    let mut unknown = json!({ "type": "unknown" });
    // What every message may carry stays: the reply context and the sender's identity.
    for key in ["context", "identity"] {
        if let Some(value) = message.get(key) {
            unknown[key] = value.clone();
        }
    }
    unknown["errors"] = json!([{
        "code": 501,
        "details": "Message type is not currently supported",
        "title": "Unknown message type",
    }]);
    unknown
}

/// A status of an outbound message. `conversation` and `pricing` accompany sent, delivered and
/// read; `errors` accompany failed.
pub fn status(
    id: &str,
    recipient_id: &str,
    status: MessageStatus,
    timestamp_secs: i64,
    conversation: Option<&ConversationInfo>,
    errors: Option<Value>,
) -> Value {
    let mut entry = json!({
        "id": id,
        "recipient_id": recipient_id,
        "status": status.as_str(),
        "timestamp": timestamp_secs.to_string(),
    });
    if let Some(conversation) = conversation {
        let mut conv = json!({ "id": conversation.id, "origin": { "type": conversation.origin } });
        if let Some(expires) = conversation.expiration_timestamp {
            conv["expiration_timestamp"] = json!(expires);
        }
        entry["conversation"] = conv;
        entry["pricing"] = json!({
            "billable": true,
            "pricing_model": "CBP",
            "category": conversation.origin,
        });
    }
    if let Some(errors) = errors {
        entry["errors"] = errors;
    }
    json!({ "statuses": [ entry ] })
}

/// Results of a non-blocking contacts check, delivered when they are known.
pub fn contacts_checked(results: Value) -> Value {
    json!({ "contacts": results })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_text_matches_the_spec_shape() {
        let body = inbound_message(
            "16315551234",
            "Kerry Fisher",
            "ABGGFlA5FpafAgo6tHcNmNjXmuSf",
            1_518_694_235,
            &json!({"type": "text", "text": {"body": "Hello this is an answer"}}),
        );
        assert_eq!(
            body,
            json!({
                "contacts": [ { "profile": { "name": "Kerry Fisher" }, "wa_id": "16315551234" } ],
                "messages": [ { "from": "16315551234", "id": "ABGGFlA5FpafAgo6tHcNmNjXmuSf",
                                "timestamp": "1518694235", "type": "text",
                                "text": { "body": "Hello this is an answer" } } ]
            })
        );
    }

    #[test]
    fn unsupported_inbound_types_become_the_unknown_fixture() {
        let poll = json!({"type": "poll", "poll": {"q": "?"}, "context": {"id": "gBGG"}});
        assert_eq!(
            supported_inbound(poll),
            json!({"type": "unknown", "context": {"id": "gBGG"},
                   "errors": [{"code": 501, "details": "Message type is not currently supported",
                               "title": "Unknown message type"}]})
        );
        let reaction =
            json!({"type": "reaction", "reaction": {"message_id": "gBGG", "emoji": "❤"}});
        assert_eq!(supported_inbound(reaction.clone()), reaction);
        assert_eq!(supported_inbound(json!({}))["type"], "unknown");
    }

    #[test]
    fn sent_status_with_conversation_and_pricing() {
        let conv = ConversationInfo {
            id: "532b57b5f6e63595ccd74c6010e5c5c7".into(),
            origin: "business_initiated".into(),
            expiration_timestamp: Some(1_631_023_497),
        };
        let body = status(
            "gBGG",
            "16315551234",
            MessageStatus::Sent,
            1_518_694_700,
            Some(&conv),
            None,
        );
        assert_eq!(
            body["statuses"][0]["conversation"],
            json!({"id": "532b57b5f6e63595ccd74c6010e5c5c7", "expiration_timestamp": 1_631_023_497,
                   "origin": {"type": "business_initiated"}})
        );
        assert_eq!(body["statuses"][0]["pricing"]["pricing_model"], "CBP");
        assert_eq!(body["statuses"][0]["timestamp"], "1518694700");
    }

    #[test]
    fn failed_status_carries_errors_only() {
        let errors = json!([{"code": 470, "title": "Re-engagement message"}]);
        let body = status(
            "gBGG",
            "1",
            MessageStatus::Failed,
            1,
            None,
            Some(errors.clone()),
        );
        assert_eq!(body["statuses"][0]["errors"], errors);
        assert!(body["statuses"][0].get("pricing").is_none());
    }
}

/// What a queued webhook reports. Stored with the callback and used as the `type` label of the
/// callback statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallbackKind {
    /// A consumer's message (`messages[]`).
    InboundMessage,
    /// A status of an outbound message (`statuses[]`).
    StatusChange,
    /// The result of a contacts check finished in the background (`contacts[]`).
    Contacts,
    /// The result of a requested garbage collection (`services[]`).
    Services,
    /// A problem of the installation itself, not of one message (`errors[]`), e.g. the network
    /// refusing the stored registration.
    Errors,
    /// A template's review or status changed: Cloud's `message_template_status_update`, which
    /// On-Prem has no webhook for. The stored body is the Cloud change's `value`.
    TemplateStatus,
}

impl CallbackKind {
    pub const ALL: [CallbackKind; 6] = [
        CallbackKind::InboundMessage,
        CallbackKind::StatusChange,
        CallbackKind::Contacts,
        CallbackKind::Services,
        CallbackKind::Errors,
        CallbackKind::TemplateStatus,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallbackKind::InboundMessage => "inbound_message",
            CallbackKind::StatusChange => "status_change",
            CallbackKind::Contacts => "contacts",
            CallbackKind::Services => "services",
            CallbackKind::Errors => "errors",
            CallbackKind::TemplateStatus => "template_status",
        }
    }

    /// The kind a stored row names; `None` for a name this version does not know.
    pub fn parse(name: &str) -> Option<CallbackKind> {
        CallbackKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

/// Where a queued webhook goes: each target has its own rows in the outbox and drains them on
/// its own, so one receiver's outage never holds the other's webhooks back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookTarget {
    /// `webhooks.url` of the application settings, in On-Prem's bodies.
    OnPrem,
    /// The Cloud API subscription (`POST /{version}/{waba-id}/subscribed_apps`), in Cloud's
    /// envelope, signed with the app secret.
    Cloud,
}

impl WebhookTarget {
    /// The value of the outbox's `target` column.
    pub fn code(self) -> i16 {
        match self {
            WebhookTarget::OnPrem => 0,
            WebhookTarget::Cloud => 1,
        }
    }

    /// The prefix that keeps a Cloud copy's event key apart from the On-Prem row's.
    pub fn event_key(self, key: &str) -> String {
        match self {
            WebhookTarget::OnPrem => key.to_string(),
            WebhookTarget::Cloud => format!("cloud:{key}"),
        }
    }

    /// Whether this target has a webhook for `kind`: the Cloud API reports messages, statuses,
    /// errors and template status changes, not contacts checks or garbage collections; On-Prem
    /// reports everything but template status changes.
    pub fn reports(self, kind: CallbackKind) -> bool {
        match self {
            WebhookTarget::OnPrem => kind != CallbackKind::TemplateStatus,
            WebhookTarget::Cloud => matches!(
                kind,
                CallbackKind::InboundMessage
                    | CallbackKind::StatusChange
                    | CallbackKind::Errors
                    | CallbackKind::TemplateStatus
            ),
        }
    }
}
