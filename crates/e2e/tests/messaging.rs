//! The first vertical slice (issue: end to end): register, check contacts, receive, send, statuses
//! and webhooks, through wanet, the coreapp and the webapp as separate processes, on each backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{env, Messaging, BUSINESS_WA_ID, FAST_PHONES};
use e2e::webhooks::{has_status, statuses};
use e2e::Receiver;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;
use wa_store::testing::TestDb;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);

fn inbound_with_id<'a>(bodies: &'a [Value], id: &str) -> Option<&'a Value> {
    bodies.iter().find(|b| b["messages"][0]["id"] == id)
}

fn register_send_receive(db_env: HashMap<String, String>) {
    let receiver = Receiver::start();
    let stack = Messaging::start(&db_env, FAST_PHONES, &receiver.url());
    let api = stack.api();
    assert_eq!(stack.gateway_status(), "unregistered");
    // Sends before registration: service not ready.
    stack
        .send_text("16315550100", "too early")
        .expect_error(500, 1011);

    stack.register();
    // Registering the same number again: already registered, nothing to do.
    let cert = stack.wanet.cert("Acme Corp");
    let again = json!({"cc": "1", "phone_number": "6315550000", "method": "voice", "cert": cert});
    api.call("POST", "/v1/account", Some(&stack.admin), Some(again))
        .expect_status(201);

    // Contacts: one on WhatsApp, one not, one not a number.
    let (status, _) = stack.wanet.post(
        "/control/consumers",
        json!({"wa_id": "16315550999", "profile": "not_on_whatsapp"}),
    );
    assert_eq!(status, 201);
    let check = json!({"blocking": "wait", "contacts": ["+1 631 555 0100", "16315550999", "+1234"], "force_check": true});
    let r = api.call("POST", "/v1/contacts", Some(&stack.admin), Some(check));
    r.expect_status(200);
    assert_eq!(
        r.body["contacts"][0],
        json!({"input": "+1 631 555 0100", "status": "valid", "wa_id": "16315550100"})
    );
    assert_eq!(
        r.body["contacts"][1],
        json!({"input": "16315550999", "status": "invalid"})
    );
    assert_eq!(
        r.body["contacts"][2],
        json!({"input": "+1234", "status": "failed"})
    );

    // The consumer writes first: the inbound webhook carries the contacts array.
    stack.wanet.post(
        "/control/consumers",
        json!({"wa_id": "16315550100", "name": "Kerry Fisher"}),
    );
    let inbound_id = stack
        .wanet
        .consumer_says("16315550100", "Hello this is an answer");
    let bodies = receiver.wait_until(WAIT, "the inbound webhook", |b| {
        inbound_with_id(b, &inbound_id).is_some()
    });
    let inbound = inbound_with_id(&bodies, &inbound_id).unwrap();
    assert_eq!(
        inbound["contacts"],
        json!([{"profile": {"name": "Kerry Fisher"}, "wa_id": "16315550100"}])
    );
    let message = &inbound["messages"][0];
    assert_eq!(message["from"], "16315550100");
    assert_eq!(message["type"], "text");
    assert_eq!(message["text"], json!({"body": "Hello this is an answer"}));
    assert!(
        message["timestamp"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
            > 1_600_000_000
    );

    // The business answers within the window: 201 with a gB id, then sent, delivered, read.
    let r = stack.send_text("16315550100", "Thanks for your message");
    r.expect_status(201);
    let id = r.body["messages"][0]["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("gB"), "{id}");
    let bodies = receiver.wait_until(WAIT, "sent, delivered and read", |b| {
        ["sent", "delivered", "read"]
            .iter()
            .all(|s| has_status(b, &id, s))
    });
    for status in statuses(&bodies, &id) {
        assert_eq!(status["recipient_id"], "16315550100");
        assert!(status["timestamp"].is_string());
        assert_eq!(
            status["conversation"]["origin"]["type"], "user_initiated",
            "{status}"
        );
        assert_eq!(status["conversation"]["id"].as_str().unwrap().len(), 32);
        assert_eq!(
            status["pricing"],
            json!({"billable": true, "pricing_model": "CBP", "category": "user_initiated"})
        );
    }
    let sent = statuses(&bodies, &id)
        .into_iter()
        .find(|s| s["status"] == "sent")
        .unwrap();
    assert!(
        sent["conversation"]["expiration_timestamp"].is_i64(),
        "{sent}"
    );
    assert_eq!(stack.wanet.consumer("16315550100")["received_count"], 1);

    // Marking the inbound message read reaches the phone.
    let r = api.call(
        "PUT",
        &format!("/v1/messages/{inbound_id}"),
        Some(&stack.admin),
        Some(json!({"status": "read"})),
    );
    r.expect_status(200);
    assert_eq!(
        stack.wanet.consumer("16315550100")["read_receipts"],
        json!([inbound_id])
    );
    api.call(
        "PUT",
        &format!("/v1/messages/{inbound_id}"),
        Some(&stack.admin),
        Some(json!({"status": "deleted"})),
    )
    .expect_error(400, 1009);
    api.call(
        "PUT",
        "/v1/messages/ABGGnope",
        Some(&stack.admin),
        Some(json!({"status": "read"})),
    )
    .expect_error(404, 1006);

    // Free-form text to someone who never wrote: failed with 470.
    let r = stack.send_text("16315550200", "Hello stranger");
    r.expect_status(201);
    let stranger = r.body["messages"][0]["id"].as_str().unwrap().to_string();
    let bodies = receiver.wait_until(WAIT, "the 470 failure", |b| {
        has_status(b, &stranger, "failed")
    });
    let failed = statuses(&bodies, &stranger)
        .into_iter()
        .find(|s| s["status"] == "failed")
        .unwrap();
    assert_eq!(failed["errors"][0]["code"], 470, "{failed}");
    assert!(failed["errors"][0]["title"].is_string());
    // The message's status says why too, without the webhook (the console shows it).
    let status = api.call(
        "GET",
        &format!("/v1/messages/{stranger}"),
        Some(&stack.admin),
        None,
    );
    assert_eq!(
        status.body["messages"][0]["status"], "failed",
        "{}",
        status.body
    );
    assert_eq!(status.body["messages"][0]["errors"], failed["errors"]);
    assert_eq!(stack.wanet.consumer("16315550200")["received_count"], 0);

    // A number that is not on WhatsApp: failed with 1013.
    let r = stack.send_text("16315550999", "Hi");
    r.expect_status(201);
    let invalid = r.body["messages"][0]["id"].as_str().unwrap().to_string();
    let bodies = receiver.wait_until(WAIT, "the 1013 failure", |b| {
        has_status(b, &invalid, "failed")
    });
    let failed = statuses(&bodies, &invalid)
        .into_iter()
        .find(|s| s["status"] == "failed")
        .unwrap();
    assert_eq!(failed["errors"][0]["code"], 1013, "{failed}");

    // Validation answers come from the coreapp with On-Prem codes.
    api.call(
        "POST",
        "/v1/messages",
        Some(&stack.admin),
        Some(json!({"type": "text", "text": {"body": "x"}})),
    )
    .expect_error(400, 1008);
    api.call(
        "POST",
        "/v1/messages",
        Some(&stack.admin),
        Some(json!({"to": "16315550100", "type": "text"})),
    )
    .expect_error(400, 1008);
    api.call(
        "POST",
        "/v1/messages",
        Some(&stack.admin),
        Some(json!({"to": "16315550100", "text": {"body": "x"}, "image": {"id": "1"}})),
    )
    .expect_error(400, 1010);
    api.call(
        "POST",
        "/v1/messages",
        Some(&stack.admin),
        Some(json!({"to": "16315550100", "text": {"body": "x".repeat(4097)}})),
    )
    .expect_error(400, 1001);
    api.call(
        "POST",
        "/v1/messages",
        Some(&stack.admin),
        Some(json!({"to": "16315550100", "preview_url": "yes", "text": {"body": "x"}})),
    )
    .expect_error(400, 1009);
    api.call(
        "POST",
        "/v1/messages",
        Some(&stack.admin),
        Some(json!({"to": "16315550100", "type": "fax", "text": {"body": "x"}})),
    )
    .expect_error(400, 1009);
    api.call(
        "POST",
        "/v1/messages",
        Some(&stack.admin),
        Some(json!({"to": BUSINESS_WA_ID, "text": {"body": "me"}})),
    )
    .expect_error(400, 1021);
}

#[test]
fn register_send_receive_on_sqlite() {
    let db = TestDb::new(Backend::Sqlite);
    register_send_receive(env(&[("ONPREM__DATABASE__URL", &db.url)]));
}

#[test]
fn register_send_receive_on_mysql() {
    let db = TestDb::new(Backend::Mysql);
    register_send_receive(env(&[("ONPREM__DATABASE__URL", &db.url)]));
}

#[test]
fn register_send_receive_on_postgres() {
    let db = TestDb::new(Backend::Postgres);
    register_send_receive(env(&[("ONPREM__DATABASE__URL", &db.url)]));
}
