//! Contact identity (spec onprem-messaging §4.3): with `show_security_notifications` on, a
//! consumer's identity change is announced with its `identity` object, and sends to that consumer
//! are refused with 1028 until `PUT /v1/contacts/{wa_id}/identity` acknowledges the new hash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::messaging_on;
use serde_json::json;
use std::time::Duration;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);
const CONSUMER: &str = "16315551299";
const SILENT: &str = "16315551298";

fn sends_are_blocked_until_the_new_identity_is_acknowledged(backend: Backend) {
    let (_db, receiver, stack) = messaging_on(backend, &[]);
    stack.register();
    let api = stack.api();
    let admin = Some(stack.admin.as_str());
    api.call(
        "PATCH",
        "/v1/settings/application",
        admin,
        Some(json!({ "show_security_notifications": true })),
    )
    .expect_status(200);
    stack.wanet.consumer_says(CONSUMER, "hi there");
    let bodies = receiver.wait_until(WAIT, "the first message", |b| {
        b.iter()
            .any(|b| b["messages"][0]["text"]["body"] == "hi there")
    });
    let first = bodies
        .iter()
        .find(|b| b["messages"][0]["text"]["body"] == "hi there")
        .unwrap();
    stack.send_text(CONSUMER, "hello").expect_status(201);
    // Never changed: the identity the network names on the consumer's messages, nothing to
    // acknowledge.
    let path = format!("/v1/contacts/{CONSUMER}/identity");
    let r = api.call("GET", &path, admin, None);
    r.expect_status(200);
    assert_eq!(
        r.body["contacts"], first["messages"][0]["identity"],
        "{first}"
    );
    assert_eq!(r.body["contacts"]["acknowledged"], true, "{}", r.body);
    let current = r.body["contacts"]["hash"].clone();
    api.call("PUT", &path, admin, Some(json!({ "hash": current })))
        .expect_status(200);
    api.call("PUT", &path, admin, Some(json!({ "hash": "UKD6Y/5SqDU=" })))
        .expect_error(400, 1009);
    // A number that never wrote is known to the network all the same, and stays the same.
    let silent = format!("/v1/contacts/{SILENT}/identity");
    let r = api.call("GET", &silent, admin, None);
    r.expect_status(200);
    assert_eq!(r.body["contacts"]["acknowledged"], true, "{}", r.body);
    assert_eq!(api.call("GET", &silent, admin, None).body, r.body);

    let (status, changed) = stack.wanet.post(
        &format!("/control/consumers/{CONSUMER}/identity"),
        json!({ "hash": "Sjvjlx8G6Z0=" }),
    );
    assert_eq!(status, 201, "{changed}");
    let id = changed["id"].as_str().unwrap().to_string();
    let bodies = receiver.wait_until(WAIT, "the identity notice", |b| {
        b.iter().any(|b| b["messages"][0]["id"] == id)
    });
    let message = &bodies
        .iter()
        .find(|b| b["messages"][0]["id"] == id)
        .unwrap()["messages"][0];
    assert_eq!(message["type"], "system");
    assert_eq!(message["system"]["type"], "user_identity_changed");
    assert_eq!(message["system"]["customer"], CONSUMER);
    let created = message["identity"]["created_timestamp"].as_i64().unwrap();
    assert!(created > 1_600_000_000_000, "milliseconds: {created}");
    assert_eq!(
        message["identity"],
        json!({ "acknowledged": false, "created_timestamp": created, "hash": "Sjvjlx8G6Z0=" })
    );

    let r = stack.send_text(CONSUMER, "are you there?");
    r.expect_error(400, 1028);
    let r = api.call("GET", &path, admin, None);
    r.expect_status(200);
    assert_eq!(
        r.body["contacts"],
        json!({ "hash": "Sjvjlx8G6Z0=", "created_timestamp": created, "acknowledged": false })
    );
    api.call("PUT", &path, admin, Some(json!({})))
        .expect_error(400, 1008);
    api.call("PUT", &path, admin, Some(json!({ "hash": "UKD6Y/5SqDU=" })))
        .expect_error(400, 1009);
    stack
        .send_text(CONSUMER, "still blocked")
        .expect_error(400, 1028);
    api.call("PUT", &path, admin, Some(json!({ "hash": "Sjvjlx8G6Z0=" })))
        .expect_status(200);
    assert_eq!(
        api.call("GET", &path, admin, None).body["contacts"]["acknowledged"],
        true
    );
    stack.send_text(CONSUMER, "unblocked").expect_status(201);

    // A later change blocks again; with notifications off, nothing blocks.
    stack.wanet.post(
        &format!("/control/consumers/{CONSUMER}/identity"),
        json!({}),
    );
    let deadline = std::time::Instant::now() + WAIT;
    while stack.send_text(CONSUMER, "probe").status != 400 {
        assert!(
            std::time::Instant::now() < deadline,
            "the second change never blocked"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    api.call(
        "PATCH",
        "/v1/settings/application",
        admin,
        Some(json!({ "show_security_notifications": false })),
    )
    .expect_status(200);
    stack
        .send_text(CONSUMER, "notifications off")
        .expect_status(201);
}

#[test]
fn identity_acknowledgement_on_sqlite() {
    sends_are_blocked_until_the_new_identity_is_acknowledged(Backend::Sqlite);
}

#[test]
fn identity_acknowledgement_on_mysql() {
    sends_are_blocked_until_the_new_identity_is_acknowledged(Backend::Mysql);
}

#[test]
fn identity_acknowledgement_on_postgres() {
    sends_are_blocked_until_the_new_identity_is_acknowledged(Backend::Postgres);
}
