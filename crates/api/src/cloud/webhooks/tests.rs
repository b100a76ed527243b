#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::status::MessageStatus;
use crate::webhooks::{inbound_message, status, supported_inbound, ConversationInfo};

/// The business number of Meta's examples.
const BUSINESS: &str = "15550783881";

/// The one change of a Cloud body.
fn change(body: &Value) -> &Value {
    assert_eq!(body["entry"].as_array().map(Vec::len), Some(1), "{body}");
    &body["entry"][0]["changes"][0]
}

fn value(kind: CallbackKind, onprem: &Value) -> Value {
    let body = cloud_body(kind, onprem, BUSINESS).expect("a Cloud body");
    change(&body)["value"].clone()
}

#[test]
fn inbound_text_has_the_shape_of_metas_example() {
    let onprem = inbound_message(
        "16505551234",
        "Sheena Nelson",
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
        1_749_416_383,
        &json!({"type": "text", "text": {"body": "Does it come in another color?"}}),
    );
    let body = cloud_body(CallbackKind::InboundMessage, &onprem, BUSINESS).unwrap();
    assert_eq!(
        body,
        json!({
            "object": "whatsapp_business_account",
            "entry": [{
                "id": waba_id(BUSINESS),
                "changes": [{
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15550783881",
                            "phone_number_id": phone_number_id(BUSINESS),
                        },
                        "contacts": [{ "profile": { "name": "Sheena Nelson" }, "wa_id": "16505551234",
                                       "user_id": user_id(BUSINESS, "16505551234") }],
                        "messages": [{
                            "from": "16505551234",
                            "from_user_id": user_id(BUSINESS, "16505551234"),
                            "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                            "timestamp": "1749416383",
                            "type": "text",
                            "text": { "body": "Does it come in another color?" },
                        }],
                    },
                    "field": "messages",
                }],
            }],
        })
    );
}

#[test]
fn delivered_status_keeps_conversation_and_pricing_in_clouds_types() {
    let conversation = ConversationInfo {
        id: "532b57b5f6e63595ccd74c6010e5c5c7".into(),
        origin: "business_initiated".into(),
        expiration_timestamp: Some(1_631_023_497),
    };
    let onprem = status(
        "wamid.gBGG",
        "16315551234",
        MessageStatus::Delivered,
        1_518_694_700,
        Some(&conversation),
        None,
    );
    let value = value(CallbackKind::StatusChange, &onprem);
    assert_eq!(value["messaging_product"], "whatsapp");
    assert_eq!(
        value["metadata"]["phone_number_id"],
        phone_number_id(BUSINESS)
    );
    assert!(value.get("messages").is_none());
    // The recipient, with its business-scoped user id, as Cloud (and pywa) have it since 2026.
    let bsuid = user_id(BUSINESS, "16315551234");
    assert_eq!(
        value["contacts"],
        json!([{ "wa_id": "16315551234", "user_id": bsuid }])
    );
    assert_eq!(
        value["statuses"],
        json!([{
            "id": "wamid.gBGG",
            "status": "delivered",
            "timestamp": "1518694700",
            "recipient_id": "16315551234",
            "recipient_user_id": bsuid,
            "conversation": {
                "id": "532b57b5f6e63595ccd74c6010e5c5c7",
                "expiration_timestamp": "1631023497",
                "origin": { "type": "marketing" },
            },
            "pricing": { "billable": true, "pricing_model": "CBP", "category": "marketing" },
        }])
    );
}

#[test]
fn failed_re_engagement_status_carries_131047_in_clouds_error_form() {
    let details =
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number";
    let errors = json!([{ "code": 470, "title": "Re-engagement message", "details": details }]);
    let onprem = status(
        "wamid.gBGG",
        "16315551234",
        MessageStatus::Failed,
        1,
        None,
        Some(errors),
    );
    let value = value(CallbackKind::StatusChange, &onprem);
    let failed = &value["statuses"][0];
    assert_eq!(failed["status"], "failed");
    assert!(failed.get("conversation").is_none() && failed.get("pricing").is_none());
    assert_eq!(
        failed["errors"],
        json!([{
            "code": 131047,
            "title": "Re-engagement message",
            "message": "Re-engagement message",
            "error_data": { "details": details },
            "href": ERROR_CODES_URL,
        }])
    );
}

#[test]
fn error_details_fall_back_to_the_titles_and_cloud_codes_stay() {
    let errors = json!([
        { "code": 471, "title": "Spam rate limit hit" },
        { "code": 131_049, "title": "This message was not delivered to maintain healthy ecosystem engagement." },
        { "code": 99_999 },
        { "title": "no code" },
    ]);
    let onprem = status("m", "1", MessageStatus::Failed, 1, None, Some(errors));
    let errors = &value(CallbackKind::StatusChange, &onprem)["statuses"][0]["errors"];
    assert_eq!(errors[0]["code"], 131_048);
    assert_eq!(errors[0]["error_data"]["details"], "Spam rate limit hit");
    // The network reports the marketing limit with Cloud's own code: it is not 131000.
    assert_eq!(errors[1]["code"], 131_049);
    assert_eq!(
        errors[1]["error_data"]["details"],
        "This message was not delivered to maintain healthy ecosystem engagement."
    );
    assert_eq!(errors[2]["code"], 131_000);
    assert_eq!(errors[2]["error_data"]["details"], "Something went wrong");
    assert_eq!(errors[3]["code"], 131_000);
}

#[test]
fn statuses_cloud_does_not_report_are_left_out() {
    let warning = status("m", "1", MessageStatus::Warning, 1, None, None);
    assert_eq!(
        cloud_body(CallbackKind::StatusChange, &warning, BUSINESS),
        None
    );
    let mixed = json!({"statuses": [
        { "id": "a", "status": "deleted", "timestamp": "1", "recipient_id": "1" },
        { "id": "b", "status": "read", "timestamp": 2, "recipient_id": "1" },
    ]});
    let value = value(CallbackKind::StatusChange, &mixed);
    assert_eq!(
        value["statuses"],
        json!([{ "id": "b", "status": "read", "timestamp": "2", "recipient_id": "1",
                 "recipient_user_id": user_id(BUSINESS, "1") }])
    );
}

#[test]
fn voice_becomes_audio_marked_voice_without_the_file_path() {
    let onprem = inbound_message(
        "16315551234",
        "Kerry Fisher",
        "ABGG",
        1,
        &json!({
            "type": "voice",
            "voice": { "file": "/usr/local/wamedia/in/abc", "id": "abc",
                       "mime_type": "audio/ogg; codecs=opus", "sha256": "f0" },
            "identity": { "acknowledged": false, "created_timestamp": 1, "hash": "DF2lS5v2W6x=" },
        }),
    );
    let value = value(CallbackKind::InboundMessage, &onprem);
    assert_eq!(
        value["messages"][0],
        json!({
            "from": "16315551234", "id": "ABGG", "timestamp": "1", "type": "audio",
            "from_user_id": user_id(BUSINESS, "16315551234"),
            "audio": { "id": "abc", "mime_type": "audio/ogg; codecs=opus", "sha256": "f0", "voice": true },
        })
    );
    assert_eq!(
        value["contacts"][0],
        json!({ "profile": { "name": "Kerry Fisher" }, "wa_id": "16315551234",
                "identity_key_hash": "DF2lS5v2W6x=", "user_id": user_id(BUSINESS, "16315551234") })
    );
}

#[test]
fn plain_audio_and_other_media_keep_everything_but_the_file_path() {
    let audio =
        json!({"type": "audio", "audio": {"id": "a", "file": "/x", "mime_type": "audio/mpeg"}});
    let value = value(
        CallbackKind::InboundMessage,
        &inbound_message("1", "n", "m", 1, &audio),
    );
    assert_eq!(
        value["messages"][0]["audio"],
        json!({"id": "a", "mime_type": "audio/mpeg", "voice": false})
    );
    let document = json!({"type": "document", "context": {"from": "2", "id": "q"},
        "document": {"id": "d", "file": "/x", "filename": "a.pdf", "caption": "c"}});
    let value = value_of_inbound(&document);
    assert_eq!(
        value["messages"][0]["document"],
        json!({"id": "d", "filename": "a.pdf", "caption": "c"})
    );
    assert_eq!(
        value["messages"][0]["context"],
        json!({"from": "2", "id": "q"})
    );
}

fn value_of_inbound(message: &Value) -> Value {
    value(
        CallbackKind::InboundMessage,
        &inbound_message("1", "n", "m", 1, message),
    )
}

#[test]
fn unknown_becomes_clouds_unsupported_message_with_131051() {
    let unknown = supported_inbound(json!({"type": "poll", "poll": {}, "context": {"id": "q"}}));
    let value = value_of_inbound(&unknown);
    assert_eq!(
        value["messages"][0],
        json!({
            "from": "1", "id": "m", "timestamp": "1", "type": "unsupported",
            "from_user_id": user_id(BUSINESS, "1"),
            "context": { "id": "q" },
            "errors": [{
                "code": 131051,
                "title": "Message type unknown",
                "message": "Message type unknown",
                "error_data": { "details": "Message type is currently not supported." },
                "href": ERROR_CODES_URL,
            }],
        })
    );
}

#[test]
fn installation_errors_become_value_errors() {
    let onprem =
        json!({"errors": [{ "code": 1005, "title": "Access denied", "details": "refused" }]});
    let value = value(CallbackKind::Errors, &onprem);
    assert_eq!(
        value["errors"],
        json!([{ "code": 131005, "title": "Access denied", "message": "Access denied",
                 "error_data": { "details": "refused" }, "href": ERROR_CODES_URL }])
    );
    assert_eq!(
        cloud_body(CallbackKind::Errors, &json!({"errors": []}), BUSINESS),
        None
    );
}

#[test]
fn kinds_without_a_cloud_webhook_and_empty_bodies_give_none() {
    let contacts = json!({"contacts": [{"input": "+1", "status": "valid", "wa_id": "1"}]});
    assert_eq!(
        cloud_body(CallbackKind::Contacts, &contacts, BUSINESS),
        None
    );
    let services = json!({"services": [{"garbage_collect": {"result": "success"}}]});
    assert_eq!(
        cloud_body(CallbackKind::Services, &services, BUSINESS),
        None
    );
    for kind in [CallbackKind::InboundMessage, CallbackKind::StatusChange] {
        assert_eq!(cloud_body(kind, &json!({}), BUSINESS), None);
        assert_eq!(cloud_body(kind, &json!("not an object"), BUSINESS), None);
    }
}

#[test]
fn signature_is_the_hex_hmac_sha256_and_a_tampered_body_fails() {
    // python3 -c 'import hmac,hashlib;print(hmac.new(b"secret",b"body",hashlib.sha256).hexdigest())'
    let expected = "sha256=dc46983557fea127b43af721467eb9b3fde2338fe3e14f51952aa8478c13d355";
    assert_eq!(signature(b"secret", b"body"), expected);
    assert!(signature_matches(b"secret", b"body", expected));
    assert!(signature_matches(
        b"secret",
        b"body",
        &expected.to_ascii_uppercase().replace("SHA256=", "sha256=")
    ));
    assert!(!signature_matches(b"secret", b"body!", expected));
    assert!(!signature_matches(b"other", b"body", expected));
    for header in [
        "",
        "sha256=",
        "sha1=dc46983557fea127b43af721467eb9b3fde2338fe3e14f51952aa8478c13d355",
        "sha256=dc46983557fea127b43af721467eb9b3fde2338fe3e14f51952aa8478c13d35",
        "sha256=zz46983557fea127b43af721467eb9b3fde2338fe3e14f51952aa8478c13d355",
        "sha256=dc46",
    ] {
        assert!(!signature_matches(b"secret", b"body", header), "{header}");
    }
}

#[test]
fn verification_url_appends_the_encoded_handshake() {
    assert_eq!(
        verification_url("https://example.com/hook", "my token", "1158201444"),
        "https://example.com/hook?hub.mode=subscribe&hub.verify_token=my%20token&hub.challenge=1158201444"
    );
    assert_eq!(
        verification_url("https://example.com/hook?a=1", "t&k=é", "c"),
        "https://example.com/hook?a=1&hub.mode=subscribe&hub.verify_token=t%26k%3D%C3%A9&hub.challenge=c"
    );
    assert_eq!(
        verification_url("https://example.com/hook?", "-._~", "c"),
        "https://example.com/hook?hub.mode=subscribe&hub.verify_token=-._~&hub.challenge=c"
    );
    assert_eq!(
        verification_url("https://example.com/hook#part", "t", "c"),
        "https://example.com/hook?hub.mode=subscribe&hub.verify_token=t&hub.challenge=c#part"
    );
}

#[test]
fn inbound_media_ids_are_in_clouds_decimal_form() {
    let uuid = "0f8d3a52-7f4e-4c1b-9a7e-2b6f1c3d4e5f";
    let image =
        json!({"type": "image", "image": {"id": uuid, "file": "/x", "mime_type": "image/jpeg"}});
    let value = value_of_inbound(&image);
    let id = value["messages"][0]["image"]["id"]
        .as_str()
        .unwrap_or_default();
    assert!(
        id.bytes().all(|b| b.is_ascii_digit()) && !id.is_empty(),
        "{id}"
    );
    assert_eq!(crate::cloud::ids::onprem_media_id(id), uuid);
}

#[test]
fn a_template_status_change_is_its_own_field_without_metadata() {
    let stored =
        crate::cloud::webhooks::template_status_value("ns", "welcome", "en_US", "APPROVED");
    let body = cloud_body(CallbackKind::TemplateStatus, &stored, BUSINESS).unwrap();
    assert_eq!(body["object"], "whatsapp_business_account");
    assert_eq!(body["entry"][0]["id"], waba_id(BUSINESS));
    let change = &body["entry"][0]["changes"][0];
    assert_eq!(change["field"], "message_template_status_update");
    assert_eq!(
        change["value"],
        json!({"event": "APPROVED",
               "message_template_id": crate::cloud::ids::template_id("ns", "welcome", "en_US"),
               "message_template_name": "welcome", "message_template_language": "en_US",
               "reason": "NONE"})
    );
}
