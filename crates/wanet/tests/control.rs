#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Net, BUSINESS, CONSUMER};
use serde_json::json;

#[tokio::test]
async fn health_and_ca() {
    let net = Net::start().await;
    let (status, body) = net.get("/control/health").await;
    assert_eq!((status, body), (200, json!({ "status": "ok" })));

    let response = net
        .http
        .get(format!("http://{}/control/ca", net.wanet.control_addr))
        .send()
        .await
        .unwrap();
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let pem = response.text().await.unwrap();
    assert_eq!(pem, net.wanet.ca_pem);
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
}

#[tokio::test]
async fn bad_requests_get_400_with_an_error_message() {
    let net = Net::start().await;
    let cases = [
        ("/control/certs", json!({ "vname": "  " })),
        ("/control/certs", json!({})),
        ("/control/consumers", json!({ "wa_id": "123" })),
        (
            "/control/consumers",
            json!({ "wa_id": CONSUMER, "profile": "grumpy" }),
        ),
        // No business is registered yet.
        (
            &format!("/control/consumers/{CONSUMER}/messages"),
            json!({ "type": "text", "text": { "body": "hi" } }),
        ),
    ];
    for (path, body) in cases {
        let (status, reply) = net.post(path, body.clone()).await;
        assert_eq!(status, 400, "{path} {body} -> {reply}");
        assert!(reply["error"].is_string(), "{reply}");
    }

    net.register_business().await;
    let path = format!("/control/consumers/{CONSUMER}/messages");
    let cases = [
        json!({ "text": { "body": "no type" } }),
        json!({ "type": "text", "to": "19998887777", "text": { "body": "unknown business" } }),
        json!({ "type": "text", "to": 5, "text": { "body": "to is not a string" } }),
    ];
    for body in cases {
        let (status, reply) = net.post(&path, body.clone()).await;
        assert_eq!(status, 400, "{body} -> {reply}");
    }
    for count in [0, 100_001] {
        let (status, _) = net
            .post(
                &format!("/control/consumers/{CONSUMER}/burst"),
                json!({ "count": count }),
            )
            .await;
        assert_eq!(status, 400);
    }
    let (status, _) = net.get("/control/consumers/abc").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn unknown_things_are_404() {
    let net = Net::start().await;
    let (status, body) = net.get("/control/codes/15550001111").await;
    assert_eq!(
        (status, body),
        (404, json!({ "error": "no code requested" }))
    );
    let (status, body) = net.get("/control/businesses/15550001111").await;
    assert_eq!(status, 404);
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn consumers_exist_implicitly_and_can_be_shaped() {
    let net = Net::start().await;
    let implicit = net.consumer("447400900999").await;
    assert_eq!(
        implicit,
        json!({
            "wa_id": "447400900999", "name": "WhatsApp User 0999", "profile": "normal",
            "received_count": 0, "received": [], "read_receipts": [], "sent": [], "undelivered": [], "held": [],
            "expired_held": 0
        })
    );
    let (status, created) = net
        .post(
            "/control/consumers",
            json!({ "wa_id": "+1 631 555 1234", "name": "Kerry Fisher" }),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        (created["wa_id"].as_str(), created["name"].as_str()),
        (Some(CONSUMER), Some("Kerry Fisher"))
    );
    // A later update changes only what it names.
    net.post(
        "/control/consumers",
        json!({ "wa_id": CONSUMER, "profile": "not_on_whatsapp" }),
    )
    .await;
    let consumer = net.consumer(CONSUMER).await;
    assert_eq!(
        (consumer["name"].as_str(), consumer["profile"].as_str()),
        (Some("Kerry Fisher"), Some("not_on_whatsapp"))
    );
    // Someone not on WhatsApp cannot write to a business.
    net.register_business().await;
    let (status, _) = net
        .post(
            &format!("/control/consumers/{CONSUMER}/messages"),
            json!({ "type": "text", "text": { "body": "hi" } }),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn with_several_businesses_the_consumer_must_say_which() {
    let net = Net::start().await;
    net.register_business().await;
    net.register("44", "7400900000", "Other Ltd").await;
    let path = format!("/control/consumers/{CONSUMER}/messages");
    let (status, reply) = net
        .post(&path, json!({ "type": "text", "text": { "body": "hi" } }))
        .await;
    assert_eq!(status, 400, "{reply}");
    let (status, reply) = net
        .post(
            &path,
            json!({ "type": "text", "to": BUSINESS, "text": { "body": "hi" } }),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    let business = net.business(BUSINESS).await;
    assert_eq!(
        business,
        json!({
            "wa_id": BUSINESS, "vname": "Acme Inc", "connected": false, "queued_pushes": 1,
            "unacked_pushes": 0, "accepted_messages": 0, "duplicate_sends": 0,
            "terms_accepted": true
        })
    );
    assert_eq!(net.business("447400900000").await["queued_pushes"], 0);
}

#[tokio::test]
async fn config_is_shown_and_changed_at_run_time() {
    let net = Net::start().await;
    let (status, config) = net.get("/control/config").await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(config["read_probability"], 1.0);
    assert_eq!(config["rate_limits"], "realistic");
    let change = serde_json::json!({ "rate_limits": "strict", "received_max_per_consumer": 3 });
    let (status, config) = net.patch("/control/config", change).await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(config["rate_limits"], "strict");
    assert_eq!(config["received_max_per_consumer"], 3);
    // Untouched fields keep their value; bad values and unknown fields are refused.
    assert_eq!(config["read_probability"], 1.0);
    let (status, _) = net
        .patch(
            "/control/config",
            serde_json::json!({ "read_probability": 2.0 }),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = net
        .patch(
            "/control/config",
            serde_json::json!({ "no_such_option": 1 }),
        )
        .await;
    assert_eq!(status, 400);
    let (_, config) = net.get("/control/config").await;
    assert_eq!(config["rate_limits"], "strict");
}
