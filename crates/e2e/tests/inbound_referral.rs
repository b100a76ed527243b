//! What rides along on inbound messages (spec onprem-messaging §7.4): the `referral` of a
//! click-to-WhatsApp ad, whose image is downloaded unless `skip_referral_media_download` is on,
//! and the sender's `identity`, on every message while `show_security_notifications` is on.
//! On every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::files::{b64, sha256_hex};
use e2e::stack::{messaging_with_media, Messaging};
use e2e::Receiver;
use serde_json::{json, Value};
use std::time::Duration;
use wa_store::testing::TestDb;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);
const CONSUMER: &str = "16315551321";

/// The consumer sends `message`; returns the message object of the webhook that announced it.
fn deliver(stack: &Messaging, receiver: &Receiver, message: Value) -> Value {
    let id = stack.wanet.consumer_sends(CONSUMER, message);
    receiver.wait_for_inbound(WAIT, &id)
}

fn start(backend: Backend, media_dir: &tempfile::TempDir) -> (TestDb, Receiver, Messaging) {
    let (db, receiver, stack) = messaging_with_media(backend, media_dir.path(), &[]);
    stack.register();
    (db, receiver, stack)
}

/// The ad's keys as the spec shows them; the image is given inline to wanet.
fn from_ad(text: &str, image: &[u8]) -> Value {
    json!({ "type": "text", "text": { "body": text },
        "referral": { "headline": "Chat with us", "body": "Ad text", "source_type": "ad",
            "source_id": "120226305854810726", "source_url": "https://fb.me/abc",
            "image": { "mime_type": "image/jpeg", "data_b64": b64(image) } } })
}

fn media_bytes(stack: &Messaging, id: &str) -> Vec<u8> {
    let response = stack.get_media(id);
    assert_eq!(response.status().as_u16(), 200);
    response.bytes().unwrap().to_vec()
}

fn referral_media_follows_the_setting(backend: Backend) {
    let media_dir = tempfile::tempdir().unwrap();
    let (_db, receiver, stack) = start(backend, &media_dir);
    let jpeg: Vec<u8> = (0..80_000u32).map(|i| (i * 11 % 251) as u8).collect();
    let digest = sha256_hex(&jpeg);

    let message = deliver(&stack, &receiver, from_ad("I saw your ad", &jpeg));
    assert_eq!(message["text"], json!({ "body": "I saw your ad" }));
    let referral = &message["referral"];
    let local_id = referral["image"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        *referral,
        json!({ "headline": "Chat with us", "body": "Ad text", "source_type": "ad",
            "source_id": "120226305854810726", "source_url": "https://fb.me/abc",
            "image": { "id": local_id, "mime_type": "image/jpeg", "sha256": digest } })
    );
    assert_eq!(sha256_hex(&media_bytes(&stack, &local_id)), digest);

    stack.patch_settings(json!({ "skip_referral_media_download": true }));
    let message = deliver(&stack, &receiver, from_ad("Me too", &jpeg));
    assert_eq!(
        message["referral"]["image"],
        json!({ "mime_type": "image/jpeg", "sha256": digest, "status": "undownloaded" })
    );
    assert_eq!(message["referral"]["headline"], "Chat with us");
}

fn text(body: &str) -> Value {
    json!({ "type": "text", "text": { "body": body } })
}

fn identity_is_on_every_message_with_notifications_on(backend: Backend) {
    let media_dir = tempfile::tempdir().unwrap();
    let (_db, receiver, stack) = start(backend, &media_dir);
    let message = deliver(&stack, &receiver, text("notifications off"));
    assert!(message.get("identity").is_none(), "{message}");

    stack.patch_settings(json!({ "show_security_notifications": true }));
    let message = deliver(&stack, &receiver, text("first"));
    let identity = &message["identity"];
    assert_eq!(identity["acknowledged"], true, "never changed: {message}");
    assert!(identity["created_timestamp"].as_i64().unwrap() > 1_600_000_000_000);
    assert!(!identity["hash"].as_str().unwrap().is_empty());

    let (status, changed) = stack.wanet.post(
        &format!("/control/consumers/{CONSUMER}/identity"),
        json!({ "hash": "Sjvjlx8G6Z0=" }),
    );
    assert_eq!(status, 201, "{changed}");
    let message = deliver(&stack, &receiver, text("new phone"));
    let created = message["identity"]["created_timestamp"].as_i64().unwrap();
    assert_eq!(
        message["identity"],
        json!({ "acknowledged": false, "created_timestamp": created, "hash": "Sjvjlx8G6Z0=" })
    );
    stack
        .api()
        .call(
            "PUT",
            &format!("/v1/contacts/{CONSUMER}/identity"),
            Some(&stack.admin),
            Some(json!({ "hash": "Sjvjlx8G6Z0=" })),
        )
        .expect_status(200);
    let message = deliver(&stack, &receiver, text("acknowledged"));
    assert_eq!(
        message["identity"],
        json!({ "acknowledged": true, "created_timestamp": created, "hash": "Sjvjlx8G6Z0=" })
    );

    stack.patch_settings(json!({ "show_security_notifications": false }));
    let message = deliver(&stack, &receiver, text("off again"));
    assert!(message.get("identity").is_none(), "{message}");
}

#[test]
fn referral_on_sqlite() {
    referral_media_follows_the_setting(Backend::Sqlite);
}

#[test]
fn referral_on_mysql() {
    referral_media_follows_the_setting(Backend::Mysql);
}

#[test]
fn referral_on_postgres() {
    referral_media_follows_the_setting(Backend::Postgres);
}

#[test]
fn identity_on_sqlite() {
    identity_is_on_every_message_with_notifications_on(Backend::Sqlite);
}

#[test]
fn identity_on_mysql() {
    identity_is_on_every_message_with_notifications_on(Backend::Mysql);
}

#[test]
fn identity_on_postgres() {
    identity_is_on_every_message_with_notifications_on(Backend::Postgres);
}
