//! The coreapp's internal RPC in process, on a fresh database of every backend and without a
//! network session: the route table, and every rule a handler checks before it needs the
//! network (validation, pure-database endpoints, the 1011 answer while not connected).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use actix_web::http::Method;
use common::test_app::TestApp;
use serde_json::json;
use wa_api::rpc::ROUTES;
use wa_store::{Backend, ContactIdentity, Registration};

on_every_backend!(
    every_route_of_the_table_is_served,
    settings_are_validated_persisted_and_reset,
    sends_are_validated_before_the_network_is_needed,
    network_backed_calls_answer_1011_while_not_connected,
    unknown_messages_are_404,
    third_party_sticker_packs_are_pure_database,
    profile_settings_are_validated,
    identities_on_a_fresh_database,
    garbage_collection_answers_processing,
);

/// The business number the tests register (the `+1 631 555 0000` of the e2e stack).
const BUSINESS: &str = "16315550000";
const CONSUMER: &str = "16315550100";

/// A concrete path for a table path: every `{parameter}` becomes `x`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "x"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn method(route: &wa_api::rpc::Route) -> Method {
    Method::from_bytes(route.method.as_str().as_bytes()).unwrap()
}

async fn registered(backend: Backend) -> TestApp {
    let app = TestApp::on(backend).await;
    app.store()
        .save_registration(Registration {
            phone: BUSINESS.to_string(),
            vname: "Shop".to_string(),
            secret: "s".to_string(),
            registered_at: 1,
            deregistered_at: None,
        })
        .await
        .unwrap();
    app
}

/// The coreapp half of the route table check (the webapp half is in the webapp's tests): every
/// row of `ROUTES` has a handler, on its method only; other paths are unknown.
async fn every_route_of_the_table_is_served(backend: Backend) {
    let app = TestApp::on(backend).await;
    let mut missing = Vec::new();
    for route in ROUTES {
        let path = concrete(route.path);
        let answer = app.call(method(route), &path, None).await;
        let unknown = answer.status == 405
            || (answer.status == 404 && answer.details() == "URL path not found");
        if unknown {
            missing.push(format!(
                "{} {path} -> {}",
                route.method.as_str(),
                answer.body
            ));
        }
    }
    assert!(missing.is_empty(), "routes not served: {missing:#?}");
    app.get("/v1/nothing/here").await.expect_error(404, 1006);
    let answer = app
        .call(Method::PUT, "/v1/settings/application", None)
        .await;
    answer.expect_status(405);
}

async fn settings_are_validated_persisted_and_reset(backend: Backend) {
    let app = TestApp::on(backend).await;
    let path = "/v1/settings/application";
    for (body, code) in [
        ("{}", 1009),
        ("{\"callback_persist\":\"yes\"}", 1009),
        ("{\"webhooks\":{\"url\":\"ftp://x\"}}", 1009),
        ("{\"webhooks\":", 1025),
    ] {
        app.call_raw(Method::PATCH, path, body)
            .await
            .expect_error(400, code);
    }
    app.patch(
        path,
        json!({"webhooks": {"url": "https://h.example.com/wa"}}),
    )
    .await
    .expect_status(200);
    let answer = app.get(path).await.expect_status(200);
    let application = &answer.body["settings"]["application"];
    assert_eq!(application["webhooks"]["url"], "https://h.example.com/wa");
    app.delete(path).await.expect_status(200);
    let answer = app.get(path).await;
    assert_eq!(
        answer.body["settings"]["application"]["webhooks"]["url"],
        ""
    );
}

/// The checks of `POST /v1/messages` that come before the network session is asked anything.
async fn sends_are_validated_before_the_network_is_needed(backend: Backend) {
    let app = registered(backend).await;
    let text = json!({"body": "x"});
    let cases = [
        (
            json!({"type": "text", "text": text}),
            1008,
            "Missing mandatory parameter 'to'".to_string(),
        ),
        (
            json!({"to": 16315550100u64, "text": text}),
            1009,
            "Parameter 'to' has invalid value '16315550100'".to_string(),
        ),
        (
            json!({"to": CONSUMER, "type": "fax"}),
            1009,
            "Parameter 'type' has invalid value 'fax'".to_string(),
        ),
        (
            json!({"to": CONSUMER, "type": "text", "text": {"body": "x".repeat(4097)}}),
            1001,
            "Message body is longer than 4096 characters".to_string(),
        ),
        (
            json!({"to": "+1 631 555 0000", "text": text}),
            1021,
            "Cannot send a message to yourself".to_string(),
        ),
        (
            json!({"to": "not a number", "text": text}),
            1013,
            "Recipient 'not a number' is not a valid WhatsApp user".to_string(),
        ),
        // An over-long value is echoed cut to 128 characters (wa_api::error::MAX_ECHOED_CHARS).
        (
            json!({"to": CONSUMER, "type": "x".repeat(1000), "text": text}),
            1009,
            format!(
                "Parameter 'type' has invalid value '{}...'",
                "x".repeat(128)
            ),
        ),
    ];
    let mut failures = Vec::new();
    for (body, code, details) in cases {
        let answer = app.post("/v1/messages", body.clone()).await;
        if (answer.status.as_u16(), answer.code(), answer.details()) != (400, code, &details) {
            failures.push(format!(
                "{body}\n  want 400 {code} {details:?}\n  got {answer:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Non-object bodies are an empty parameter set.
    for body in ["[1, 2]", "\"to\"", ""] {
        app.call_raw(Method::POST, "/v1/messages", body)
            .await
            .expect_error(400, 1008);
    }
}

async fn network_backed_calls_answer_1011_while_not_connected(backend: Backend) {
    let app = registered(backend).await;
    let send = json!({"to": CONSUMER, "type": "text", "text": {"body": "hi"}});
    app.post("/v1/messages", send).await.expect_error(500, 1011);
    let check = json!({"blocking": "wait", "contacts": ["+16315550100"]});
    app.post("/v1/contacts", check)
        .await
        .expect_error(500, 1011);
    let list = "/v1/stickerpacks?namespace=whatsapp";
    app.get(list).await.expect_error(500, 1011);
}

async fn unknown_messages_are_404(backend: Backend) {
    let app = TestApp::on(backend).await;
    let id = "ABGGFlA5FpafAgo6tHcNmNjXmuSf";
    app.get(&format!("/v1/messages/{id}"))
        .await
        .expect_error(404, 1006);
    app.put(&format!("/v1/messages/{id}"), json!({"status": "read"}))
        .await
        .expect_error(404, 1006);
    app.put(&format!("/v1/messages/{id}"), json!({}))
        .await
        .expect_error(400, 1008);
}

async fn third_party_sticker_packs_are_pure_database(backend: Backend) {
    let app = TestApp::on(backend).await;
    let list = app.get("/v1/stickerpacks").await.expect_status(200);
    assert_eq!(list.body["stickerpacks"], json!([]));
    let created = app
        .post(
            "/v1/stickerpacks",
            json!({"publisher": "Acme", "name": "Cats"}),
        )
        .await
        .expect_status(201);
    let pack = created.body["stickerpacks"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let list = app.get("/v1/stickerpacks").await;
    assert_eq!(list.body["stickerpacks"], json!([{"id": pack}]));
    let base = format!("/v1/stickerpacks/{pack}");
    app.patch(&base, json!({"name": "Dogs"}))
        .await
        .expect_status(200);
    let read = app.get(&base).await.expect_status(200);
    assert_eq!(
        read.body["stickerpacks"],
        json!([{"publisher": "Acme", "name": "Dogs"}])
    );
    let stickers = app
        .get(&format!("{base}/stickers"))
        .await
        .expect_status(200);
    assert_eq!(stickers.body["stickers"], json!([]));
    app.get(&format!("{base}/stickers/0"))
        .await
        .expect_error(404, 1006);
    app.post("/v1/stickerpacks", json!({"name": "x"}))
        .await
        .expect_error(400, 1008);
    app.get("/v1/stickerpacks?namespace=martian")
        .await
        .expect_error(400, 1009);
    app.patch(&base, json!({})).await.expect_error(400, 1009);
    app.delete(&base).await.expect_status(200);
    app.get(&base).await.expect_error(404, 1006);
}

async fn profile_settings_are_validated(backend: Backend) {
    let app = registered(backend).await;
    let about = "/v1/settings/profile/about";
    app.patch(about, json!({})).await.expect_error(400, 1008);
    app.patch(about, json!({"text": 7}))
        .await
        .expect_error(400, 1009);
    app.patch(about, json!({"text": "x".repeat(140)}))
        .await
        .expect_error(400, 1009);
    let business = "/v1/settings/business/profile";
    app.post(business, json!({"vertical": 12}))
        .await
        .expect_error(400, 1009);
    app.post(business, json!({"websites": ["a", "b", "c"]}))
        .await
        .expect_error(400, 1009);
    let compliance = "/v1/settings/business/compliance_info";
    app.post(compliance, json!({}))
        .await
        .expect_error(400, 1008);
}

async fn identities_on_a_fresh_database(backend: Backend) {
    let app = TestApp::on(backend).await;
    let path = format!("/v1/contacts/{CONSUMER}/identity");
    // No change recorded: the network is asked, and this app has no session.
    app.get(&path).await.expect_error(500, 1011);
    app.put(&path, json!({"hash": "h"}))
        .await
        .expect_error(500, 1011);
    app.store()
        .save_identity(ContactIdentity {
            wa_id: CONSUMER.to_string(),
            hash: "h1".to_string(),
            created_ms: 1_000,
            acknowledged: false,
        })
        .await
        .unwrap();
    let answer = app.get(&path).await.expect_status(200);
    assert_eq!(
        answer.body["contacts"]["acknowledged"], false,
        "{}",
        answer.body
    );
    app.put(&path, json!({})).await.expect_error(400, 1008);
    app.put(&path, json!({"hash": "other"}))
        .await
        .expect_error(400, 1009);
    app.put(&path, json!({"hash": "h1"}))
        .await
        .expect_status(200);
    let answer = app.get(&path).await;
    assert_eq!(answer.body["contacts"]["acknowledged"], true);
}

async fn garbage_collection_answers_processing(backend: Backend) {
    let app = TestApp::on(backend).await;
    for service in ["message", "media"] {
        let answer = app
            .put(&format!("/v1/services/{service}/gc"), json!({}))
            .await
            .expect_status(200);
        assert_eq!(
            answer.body["services"][service]["gc"]["status"], "processing",
            "{}",
            answer.body
        );
    }
}
