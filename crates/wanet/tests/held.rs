//! The phones' offline store: a message to a phone that is off waits on the network, is
//! delivered when the phone comes back, and is dropped after 30 days of network time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Net, WAIT};
use serde_json::{json, Value};
use std::time::Duration;
use wa_netproto::ReceiptStatus;

async fn set_profile(net: &Net, wa_id: &str, profile: &str) {
    let body = json!({ "wa_id": wa_id, "profile": profile });
    let (status, reply) = net.post("/control/consumers", body).await;
    assert_eq!(status, 201, "{reply}");
}

/// Polls the consumer until `done` holds (the deadline is a failure guard, not a timing).
async fn wait_consumer(net: &Net, wa_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    // Generous: the retention sweep that drops expired messages runs every 10 s.
    let deadline = tokio::time::Instant::now() + 4 * WAIT;
    loop {
        let consumer = net.consumer(wa_id).await;
        if done(&consumer) {
            return consumer;
        }
        assert!(tokio::time::Instant::now() < deadline, "{consumer}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_phone_back_online_gets_what_waited_for_it() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    let phone = "16315550300";
    net.consumer_says(phone, "hi").await;
    session.next_push_acked().await;
    set_profile(&net, phone, "offline").await;
    session.send_text("gBGGheld1", phone, "one").await.unwrap();
    session.send_text("gBGGheld2", phone, "two").await.unwrap();
    let held = wait_consumer(&net, phone, |c| c["held"].as_array().unwrap().len() == 2).await;
    assert_eq!(held["received_count"], 0, "{held}");

    set_profile(&net, phone, "normal").await;
    for id in ["gBGGheld1", "gBGGheld2"] {
        assert_eq!(session.receipt_for(id).await.0, ReceiptStatus::Delivered);
    }
    let back = wait_consumer(&net, phone, |c| c["received_count"] == 2).await;
    assert_eq!(back["held"], json!([]), "{back}");
}

#[tokio::test]
async fn a_prefix_rule_taking_a_range_offline_and_back_does_the_same() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    let phone = "16315550310";
    net.consumer_says(phone, "hi").await;
    session.next_push_acked().await;
    let (status, rule) = net
        .post(
            "/control/profiles",
            json!({"prefix": "163155503", "profile": "offline"}),
        )
        .await;
    assert_eq!(status, 201, "{rule}");
    session.send_text("gBGGrange", phone, "one").await.unwrap();
    wait_consumer(&net, phone, |c| c["held"] == json!(["gBGGrange"])).await;
    let removed = net
        .http
        .delete(format!(
            "http://{}/control/profiles/163155503",
            net.wanet.control_addr
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    assert_eq!(
        session.receipt_for("gBGGrange").await.0,
        ReceiptStatus::Delivered
    );
}

#[tokio::test]
async fn after_30_days_of_network_time_held_messages_are_dropped() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    let phone = "16315550311";
    net.consumer_says(phone, "hi").await;
    session.next_push_acked().await;
    set_profile(&net, phone, "offline").await;
    // 30 days × 0.000001 ≈ 2.6 s; the retention sweep runs every 10 s.
    let (status, config) = net
        .patch("/control/config", json!({"time_scale": 0.000001}))
        .await;
    assert_eq!(status, 200, "{config}");
    session.send_text("gBGGlost", phone, "gone").await.unwrap();
    let expired = wait_consumer(&net, phone, |c| c["expired_held"] == 1).await;
    assert_eq!(expired["held"], json!([]), "{expired}");

    // Back online: the dropped message never comes, a new one does.
    set_profile(&net, phone, "normal").await;
    session.send_text("gBGGnew", phone, "new").await.unwrap();
    let (status, _) = session.receipt_for("gBGGnew").await;
    assert_eq!(status, ReceiptStatus::Delivered);
    let back = net.consumer(phone).await;
    let ids: Vec<&str> = back["received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["gBGGnew"], "{back}");
}
