//! The admin console (issue 8): its files under `/console`, and the two API extensions it relies
//! on, `POST /v1/settings/application/webhooks/test` and `GET /v1/messages/{id}`. The console
//! itself is driven in a real browser by `console-test/` (run from `scripts/test`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{env, launcher, Messaging, FAST_PHONES};
use e2e::{free_port, Receiver};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wa_store::testing::TestDb;
use wa_store::Backend;

const WEBHOOK_TEST: &str = "/v1/settings/application/webhooks/test";
const CUSTOMER: &str = "16315550123";

#[test]
fn console_files_are_served_and_the_root_is_unchanged() {
    let data = tempfile::tempdir().unwrap();
    let stack = launcher(data.path(), &[]);
    let api = &stack.client;
    for (path, content_type, marker) in [
        ("/console", "text/html", "<title>Admin console"),
        ("/console/", "text/html", "<title>Admin console"),
        ("/console/core.js", "text/javascript", "/v1/users/login"),
        ("/console/pages.js", "text/javascript", "/v1/openapi.json"),
        (
            "/console/phones.js",
            "text/javascript",
            "/console/consumers",
        ),
        ("/console/app.js", "text/javascript", "restoreSession();"),
        ("/console/app.css", "text/css", "@media"),
    ] {
        let response = api.request("GET", path).send().unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with(content_type),
            "{path}: {headers:?}"
        );
        assert!(headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'"));
        assert!(response.text().unwrap().contains(marker), "{path}");
    }
    api.call("GET", "/console/missing.js", None, None)
        .expect_error(404, 1006);
    api.call("POST", "/console", None, None)
        .expect_error(404, 1006);
    // `/` answers as before: the API's unknown-path error.
    api.call("GET", "/", None, None).expect_error(404, 1006);
}

#[test]
fn webhook_test_and_message_status_extensions() {
    let db = TestDb::new(Backend::Sqlite);
    let db_env = env(&[("ONPREM__DATABASE__URL", &db.url)]);
    let receiver = Receiver::start();
    let stack = Messaging::start(&db_env, FAST_PHONES, "");
    let api = stack.api();
    let admin = Some(stack.admin.as_str());

    // No URL configured: 412/1022, the On-Prem error for exactly that.
    api.call("POST", WEBHOOK_TEST, admin, None)
        .expect_error(412, 1022);
    set_webhook_url(&stack, &receiver.url());
    let reply = api.call("POST", WEBHOOK_TEST, admin, None);
    reply.expect_status(200);
    let test = &reply.body["webhook_test"];
    assert_eq!(test["url"], receiver.url().as_str());
    assert_eq!(test["status"], 200);
    assert_eq!(test["body"], "ok");
    assert_eq!(test["error"], Value::Null);
    assert!(test["elapsed_ms"].is_u64());
    let posted = receiver.attempts();
    assert_eq!(posted.len(), 1, "one POST, nothing queued");
    assert!(posted[0].body["test"]["timestamp"].is_string());

    // The receiver's failures are reported, not turned into API errors.
    receiver.answer_with(503);
    let test = api.call("POST", WEBHOOK_TEST, admin, None).body["webhook_test"].clone();
    assert_eq!(test["status"], 503);
    set_webhook_url(&stack, &format!("http://127.0.0.1:{}/hook", free_port()));
    let test = api.call("POST", WEBHOOK_TEST, admin, None).body["webhook_test"].clone();
    assert_eq!(test["status"], Value::Null);
    assert!(test["error"]
        .as_str()
        .unwrap()
        .starts_with("connection failed"));

    // A URL in the body is tested instead of the saved one, which stays.
    receiver.answer_with(200);
    let reply = api.call(
        "POST",
        WEBHOOK_TEST,
        admin,
        Some(json!({ "url": receiver.url() })),
    );
    assert_eq!(reply.body["webhook_test"]["url"], receiver.url().as_str());
    assert_eq!(reply.body["webhook_test"]["status"], 200, "{}", reply.body);
    let saved = api.call("GET", "/v1/settings/application", admin, None);
    assert_ne!(
        saved.body["settings"]["application"]["webhooks"]["url"],
        receiver.url().as_str()
    );
    for bad in [
        json!({ "url": "ftp://example.com/hook" }),
        json!({ "url": 7 }),
    ] {
        api.call("POST", WEBHOOK_TEST, admin, Some(bad))
            .expect_error(400, 1009);
    }

    // Administrators only, like the settings it tests.
    api.call(
        "POST",
        "/v1/users",
        admin,
        Some(json!({"username": "operator1", "password": "Operator-Pass-1!"})),
    )
    .expect_status(201);
    let user = api.bearer("operator1", "Operator-Pass-1!");
    api.call("POST", WEBHOOK_TEST, Some(&user), None)
        .expect_error(403, 1005);
    api.call("GET", WEBHOOK_TEST, admin, None)
        .expect_error(405, 1014);

    // GET /v1/messages/{id}: the stored message and its latest status, for any signed-in user.
    api.call("GET", "/v1/messages/gBEGnope", Some(&user), None)
        .expect_error(404, 1006);
    stack.register();
    stack.wanet.consumer_says(CUSTOMER, "Hello?");
    let sent = stack.send_text(CUSTOMER, "Where is my parcel?");
    sent.expect_status(201);
    let id = sent.body["messages"][0]["id"].as_str().unwrap().to_string();
    let message = wait_for_status(&stack, &user, &id, "read");
    assert_eq!(message["to"], CUSTOMER);
    assert_eq!(message["type"], "text");
    assert_eq!(message["direction"], "outbound");
    let timestamp: i64 = message["timestamp"].as_str().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - timestamp).abs() < 120, "{timestamp} vs {now}");
    api.call("GET", &format!("/v1/messages/{id}"), None, None)
        .expect_status(401);
}

fn set_webhook_url(stack: &Messaging, url: &str) {
    stack.patch_settings(json!({"webhooks": {"url": url}}));
}

/// Polls `GET /v1/messages/{id}` as `auth` until the message reaches `wanted`.
fn wait_for_status(stack: &Messaging, auth: &str, id: &str, wanted: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let reply = stack
            .api()
            .call("GET", &format!("/v1/messages/{id}"), Some(auth), None);
        reply.expect_status(200);
        let message = reply.body["messages"][0].clone();
        assert_eq!(message["id"], id);
        if message["status"] == wanted {
            return message;
        }
        assert_ne!(message["status"], "failed", "{message}");
        assert!(
            Instant::now() < deadline,
            "message stayed {}",
            message["status"]
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
