//! Scenarios (control/scenario.rs): the shipped files under `scenarios/` load through
//! `POST /control/scenarios` and at start, and their set-up and timed events have the effects
//! the control API's own requests have.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{test_config, Net};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;
use wa_netproto::{Push, Request};

fn shipped(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(name)
}

/// Polls the consumer until `done` holds (events play on the network's clock).
async fn wait_consumer(net: &Net, wa_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        let consumer = net.consumer(wa_id).await;
        if done(&consumer) {
            return consumer;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "consumer {wa_id} never reached the expected state: {}",
        net.consumer(wa_id).await
    );
}

#[tokio::test]
async fn every_shipped_scenario_loads_without_a_refused_step() {
    let net = Net::start().await;
    // The business-bound entries apply to the only registered number.
    net.register("44", "7400900123", "Acme UK").await;
    let files: Vec<_> = std::fs::read_dir(shipped(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(files.len() >= 6, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let (status, body) = net.post_scenario(&text).await;
        assert_eq!(status, 201, "{}: {body}", file.display());
        assert!(body["applied"].as_u64().unwrap() > 0 || body["events"].as_u64().unwrap() > 0);
    }
}

#[tokio::test]
async fn a_scenario_at_start_sets_profiles_and_brings_a_phone_back() {
    let net = Net::start_with(wanet::WanetConfig {
        scenario: Some(shipped("offline-phones.toml")),
        // The 5 s event plays after 50 ms.
        time_scale: 0.01,
        ..test_config()
    })
    .await;
    assert_eq!(
        net.consumer("16315550302").await["profile"],
        "not_on_whatsapp"
    );
    assert_eq!(net.consumer("16315550399").await["profile"], "offline");
    let back = wait_consumer(&net, "16315550301", |c| c["profile"] == "normal").await;
    assert_eq!(back["name"], "Phone that comes back");
}

#[tokio::test]
async fn a_sanctioned_consumers_message_never_reaches_the_business() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    let text = std::fs::read_to_string(shipped("sanctioned-regions.toml")).unwrap();
    let (status, body) = net.post_scenario(&text).await;
    assert_eq!(status, 201, "{body}");
    // Only the served consumer's message arrives.
    let push = tokio::time::timeout(common::WAIT, session.next_push_acked())
        .await
        .unwrap();
    let Push::Inbound { from, .. } = push else {
        panic!("expected an inbound message, got {push:?}");
    };
    assert_eq!(from, "16315550401");
    assert_eq!(net.consumer("79495512345").await["profile"], "sanctioned");
}

#[tokio::test]
async fn terms_refuse_sends_until_the_event_accepts_them() {
    let net = Net::start_with(wanet::WanetConfig {
        time_scale: 0.01,
        ..test_config()
    })
    .await;
    let credentials = net.register("44", "7400900123", "Acme UK").await;
    let mut session = net.business_session(&credentials).await;
    let text = std::fs::read_to_string(shipped("terms-not-accepted.toml")).unwrap();
    assert_eq!(net.post_scenario(&text).await.0, 201);
    let template = json!({"type": "template", "template": {"namespace": "ns", "name": "hello", "language": {"code": "en"}}});
    let refused = session
        .request(Request::SendMessage {
            id: "gBGGterms1".into(),
            to: "16315550601".into(),
            message: template.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code, 1005, "{refused:?}");
    // The 60 s event plays after 600 ms of real time.
    let mut accepted = false;
    for n in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let sent = session
            .request(Request::SendMessage {
                id: format!("gBGGterms{}", n + 2),
                to: "16315550601".into(),
                message: template.clone(),
            })
            .await;
        if sent.is_ok() {
            accepted = true;
            break;
        }
    }
    assert!(accepted, "the terms event never accepted the terms");
}

#[tokio::test]
async fn the_outage_event_drops_the_business_session() {
    let net = Net::start_with(wanet::WanetConfig {
        time_scale: 0.01,
        ..test_config()
    })
    .await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    let text = std::fs::read_to_string(shipped("outage.toml")).unwrap();
    assert_eq!(net.post_scenario(&text).await.0, 201);
    tokio::time::timeout(common::WAIT, session.wait_closed())
        .await
        .expect("the outage closes the session");
    let (_, outage) = net.get("/control/outage").await;
    assert_eq!(outage["active"], true, "{outage}");
}

#[tokio::test]
async fn a_bad_scenario_is_refused_with_400() {
    let net = Net::start().await;
    let (status, body) = net.post_scenario("consumers = 3").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = net
        .post_scenario(r#"{"profiles": [{"prefix": "x1", "profile": "offline"}]}"#)
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body}");
    let (status, _) = net
        .post_scenario("[[events]]\nat_ms = 0\naction = \"explode\"")
        .await;
    assert_eq!(status, 400);
}
