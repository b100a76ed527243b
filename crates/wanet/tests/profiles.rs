//! Recipient profiles, rate limits, tiers, outages and the traffic generator, through the real
//! protocol listener and control API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{test_config, Client, Net, BUSINESS};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use wa_netproto::{NetError, Push, ReceiptStatus, Request, Response};
use wanet::{RateLimitPreset, WanetConfig};

/// Receipts of one message in arrival order: status and error code.
type Receipts = Vec<(ReceiptStatus, Option<u32>)>;

/// Every receipt that arrives until the line has been quiet for `quiet`, by message id.
async fn receipts_until_quiet(session: &mut Client, quiet: Duration) -> HashMap<String, Receipts> {
    let mut seen: HashMap<String, Vec<_>> = HashMap::new();
    while let Ok(push) = tokio::time::timeout(quiet, session.next_push_acked()).await {
        if let Push::Receipt {
            message_id,
            status,
            error,
            ..
        } = push
        {
            seen.entry(message_id)
                .or_default()
                .push((status, error.map(|e| e.code)));
        }
    }
    seen
}

async fn set_profile(net: &Net, wa_id: &str, profile: &str) {
    let (status, body) = net
        .post(
            "/control/consumers",
            json!({ "wa_id": wa_id, "profile": profile }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["profile"], profile);
}

async fn send_template(session: &mut Client, id: &str, to: &str) -> Result<Response, NetError> {
    session
        .request(Request::SendMessage {
            id: id.into(),
            to: to.into(),
            message: json!({"type": "template", "template": {"namespace": "ns", "name": "hello", "language": {"code": "en"}}}),
        })
        .await
}

#[tokio::test]
async fn each_profile_answers_with_its_receipts() {
    use ReceiptStatus::{Delivered, Failed, Read};
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    let (status, rule) = net
        .post(
            "/control/profiles",
            json!({"prefix": "+4474", "profile": "old_app"}),
        )
        .await;
    assert_eq!(status, 201, "{rule}");
    let cases: Vec<(&str, Option<&str>, Receipts)> = vec![
        (
            "16315550001",
            Some("normal"),
            vec![(Delivered, None), (Read, None)],
        ),
        (
            "16315550002",
            Some("no_read_receipts"),
            vec![(Delivered, None)],
        ),
        ("16315550003", Some("offline"), vec![]),
        ("16315550004", Some("blocked_business"), vec![]),
        ("16315550005", Some("old_app"), vec![(Failed, Some(1026))]),
        ("16315550006", Some("experiment"), vec![(Failed, Some(472))]),
        (
            "16315550007",
            Some("multi_device"),
            vec![(Delivered, None), (Failed, Some(1026))],
        ),
        // Default prefix rules: Iran and Turkey are cut off. Their users cannot write, so no
        // window opens and a text fails with 470 (a template stays `sent`: e2e network_realism).
        ("989121234567", None, vec![(Failed, Some(470))]),
        ("905321234567", None, vec![(Failed, Some(470))]),
        // A prefix rule set above.
        ("447400900123", None, vec![(Failed, Some(1026))]),
    ];
    for (wa_id, profile, _) in &cases {
        if let Some(profile) = profile {
            set_profile(&net, wa_id, profile).await;
        }
        // The window is open, so only the profile decides.
        if profile.is_some() || wa_id.starts_with("44") {
            net.consumer_says(wa_id, "hi").await;
        }
    }
    assert_eq!(net.consumer("989121234567").await["profile"], "sanctioned");
    for (n, (wa_id, _, _)) in cases.iter().enumerate() {
        let sent = session.send_text(&format!("gBGG{n}"), wa_id, "hello").await;
        assert!(
            matches!(sent, Ok(Response::Accepted { .. })),
            "{wa_id}: {sent:?}"
        );
    }
    let receipts = receipts_until_quiet(&mut session, Duration::from_millis(500)).await;
    for (n, (wa_id, profile, expected)) in cases.iter().enumerate() {
        let got = receipts
            .get(&format!("gBGG{n}"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(&got, expected, "{wa_id} ({profile:?})");
    }
    // Phones that never received the message have nothing recorded.
    assert_eq!(net.consumer("16315550003").await["received_count"], 0);
    assert_eq!(net.consumer("16315550002").await["received_count"], 1);
    // What did not reach a phone is kept apart with its ticks and why, for a chat view.
    let old_app = net.consumer("16315550005").await;
    assert_eq!(old_app["undelivered"][0]["status"], "failed");
    assert_eq!(old_app["undelivered"][0]["error"]["code"], 1026);
    let blocked = net.consumer("16315550004").await;
    assert_eq!(blocked["undelivered"][0]["status"], "sent");
    let multi = net.consumer("16315550007").await;
    assert_eq!(multi["received"][0]["status"], "failed");
    assert_eq!(multi["undelivered"], json!([]));
}

#[tokio::test]
async fn the_strict_preset_throttles_a_number_then_its_whole_account() {
    let net = Net::start_with(WanetConfig {
        rate_limits: RateLimitPreset::Strict,
        time_scale: 0.01,
        ..test_config()
    })
    .await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    let sibling = net.register("1", "6315550999", "Acme Two").await;
    let mut sibling_session = net.business_session(&sibling).await;
    for number in [BUSINESS, "16315550999"] {
        let (status, limits) = net
            .post(
                &format!("/control/businesses/{number}/limits"),
                json!({"account": "acme"}),
            )
            .await;
        assert_eq!((status, limits["account"].clone()), (200, json!("acme")));
    }
    for to in [BUSINESS, "16315550999"] {
        let hi = json!({"type": "text", "text": {"body": "hi"}, "to": to});
        let (status, _) = net
            .post("/control/consumers/16315550001/messages", hi)
            .await;
        assert_eq!(status, 201);
    }
    for n in 0..5 {
        session
            .send_text(&format!("m{n}"), "16315550001", "x")
            .await
            .unwrap();
    }
    let refused = session
        .send_text("m5", "16315550001", "x")
        .await
        .unwrap_err();
    assert_eq!(
        (refused.code, refused.title.as_str()),
        (429, "Rate limit hit")
    );
    // Light: 5 minutes at 1/100 of real time, this number only.
    let details = refused.details.unwrap();
    assert!(
        details.contains("light throttling of this number")
            && details.contains("retry after 3000 ms"),
        "{details}"
    );
    sibling_session
        .send_text("s0", "16315550001", "x")
        .await
        .unwrap();
    // A duplicate of an accepted message is not a new send.
    assert!(session.send_text("m0", "16315550001", "x").await.is_ok());
    let (_, limits) = net
        .get(&format!("/control/businesses/{BUSINESS}/limits"))
        .await;
    assert_eq!(
        (
            limits["throttling"].clone(),
            limits["throttling_scope"].clone()
        ),
        (json!("light"), json!("number")),
        "{limits}"
    );
    tokio::time::sleep(Duration::from_millis(3_050)).await;
    session.send_text("m5", "16315550001", "x").await.unwrap();
    // An upgraded number has 30 a minute; going over again throttles the account.
    let (status, _) = net
        .post(
            &format!("/control/businesses/{BUSINESS}/limits"),
            json!({"upgraded": true}),
        )
        .await;
    assert_eq!(status, 200);
    for n in 6..35 {
        session
            .send_text(&format!("m{n}"), "16315550001", "x")
            .await
            .unwrap();
    }
    let again = session
        .send_text("m35", "16315550001", "x")
        .await
        .unwrap_err();
    assert!(again.details.unwrap().contains("moderate throttling"));
    let sibling_refused = sibling_session
        .send_text("s1", "16315550001", "x")
        .await
        .unwrap_err();
    assert_eq!(sibling_refused.code, 429);
    assert_eq!(
        sibling_refused.retry_after_ms.map(|ms| ms <= 36_000),
        Some(true)
    );
    let (status, limits) = net
        .post(
            "/control/businesses/16315550999/limits",
            json!({"lift_throttling": true}),
        )
        .await;
    assert_eq!((status, limits["throttling"].clone()), (200, json!(null)));
    session.send_text("m35", "16315550001", "x").await.unwrap();
}

#[tokio::test]
async fn the_tier_caps_unique_users_of_business_initiated_messages() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    let (status, limits) = net
        .post(
            &format!("/control/businesses/{BUSINESS}/limits"),
            json!({"tier": 2}),
        )
        .await;
    assert_eq!((status, limits["tier"].clone()), (200, json!(2)));
    send_template(&mut session, "t1", "16315550001")
        .await
        .unwrap();
    send_template(&mut session, "t2", "16315550002")
        .await
        .unwrap();
    send_template(&mut session, "t3", "16315550001")
        .await
        .unwrap();
    let refused = send_template(&mut session, "t4", "16315550003")
        .await
        .unwrap_err();
    assert_eq!(
        (refused.code, refused.title.as_str()),
        (471, "Spam rate limit hit")
    );
    assert!(refused.details.unwrap().contains("retry after"));
    // Replies inside a window the consumer opened do not count.
    net.consumer_says("16315550004", "hi").await;
    session
        .send_text("r1", "16315550004", "hello")
        .await
        .unwrap();
    let (_, limits) = net
        .get(&format!("/control/businesses/{BUSINESS}/limits"))
        .await;
    assert_eq!(limits["users_reached"], 2, "{limits}");
    assert_eq!(limits["tier_refusals"], 1);
    let (status, _) = net
        .post(
            &format!("/control/businesses/{BUSINESS}/limits"),
            json!({"tier": "unlimited"}),
        )
        .await;
    assert_eq!(status, 200);
    send_template(&mut session, "t5", "16315550003")
        .await
        .unwrap();
    let (status, _) = net
        .post(
            &format!("/control/businesses/{BUSINESS}/limits"),
            json!({"tier": -3}),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn an_outage_drops_sessions_and_refuses_connections_until_it_ends() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    let (status, body) = net.post("/control/outage", json!({"seconds": 1.0})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["dropped_sessions"], 1);
    session.wait_closed().await;
    let (_, outage) = net.get("/control/outage").await;
    assert_eq!(outage["active"], true);
    // A consumer writing meanwhile is queued for the business.
    let inbound = net.consumer_says("16315550001", "during the outage").await;
    let mut refused = tokio::net::TcpStream::connect(net.wanet.protocol_addr)
        .await
        .unwrap();
    let mut buf = [0u8; 1];
    let read = tokio::io::AsyncReadExt::read(&mut refused, &mut buf).await;
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the connection is dropped unanswered"
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let mut client = net.connect().await;
    client.hello(Some(credentials)).await.unwrap();
    let backlog = client.drain_backlog().await;
    assert!(backlog
        .iter()
        .any(|p| matches!(p, Push::Inbound { id, .. } if *id == inbound)));
    let (status, _) = net.post("/control/outage", json!({"seconds": 301})).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_traffic_generator_sends_the_requested_volume_and_types() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    let request = json!({"to": BUSINESS, "volume": 12, "interval_ms": 1, "types": ["text", "location", "contacts"]});
    let (status, body) = net.post("/control/traffic", request).await;
    assert_eq!(status, 202, "{body}");
    let mut types = HashMap::<String, usize>::new();
    let mut senders = std::collections::HashSet::new();
    while types.values().sum::<usize>() < 12 {
        if let Push::Inbound { message, from, .. } = session.next_push_acked().await {
            *types
                .entry(message["type"].as_str().unwrap().to_string())
                .or_default() += 1;
            senders.insert(from);
        }
    }
    assert_eq!(
        types,
        HashMap::from([
            ("text".into(), 4),
            ("location".into(), 4),
            ("contacts".into(), 4)
        ])
    );
    assert_eq!(senders.len(), 12);
    let bad = json!({"volume": 1, "types": ["hologram"]});
    assert_eq!(net.post("/control/traffic", bad).await.0, 400);
    let no_business = json!({"to": "19999999999", "volume": 1});
    assert_eq!(net.post("/control/traffic", no_business).await.0, 400);
}
