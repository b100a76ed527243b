//! The Cloud API surface in process, without a coreapp: tokens answer 190, ids that name
//! nothing 100/33, bad bodies the Cloud codes, never a 500 for client input; the phone-number
//! reads come from the registration in the store; a send that passes every check reaches the
//! relay, whose failure (no coreapp) comes back in the Cloud envelope through the code table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Reply, TestApp};
use serde_json::{json, Value};
use wa_api::cloud::ids;
use wa_store::{Backend, Registration};

on_every_backend!(
    a_missing_or_bad_token_is_190,
    unknown_ids_are_100_with_subcode_33,
    bad_bodies_answer_cloud_codes_never_500,
    the_registered_number_is_listed,
    a_valid_send_reaches_the_relay,
    templates_are_read_through_the_relay,
    template_writes_check_the_caller_and_the_body,
    the_business_profile_checks_its_body,
    media_is_read_and_deleted_by_its_id,
    media_is_uploaded_as_a_multipart_form,
    register_and_deregister_check_the_caller_and_the_body,
    a_deregistered_number_is_disconnected_and_refuses_sends,
);

const NUMBER: &str = "16315551019";

async fn registered_app(backend: Backend) -> (TestApp, String) {
    registered_app_with(TestApp::on(backend).await).await
}

async fn registered_app_with(app: TestApp) -> (TestApp, String) {
    let registration = Registration {
        phone: NUMBER.to_string(),
        vname: "Shop".to_string(),
        secret: "s".to_string(),
        registered_at: 1,
        deregistered_at: None,
    };
    app.state()
        .store
        .save_registration(registration)
        .await
        .unwrap();
    let token = app.first_login().await;
    (app, token)
}

fn messages_path() -> String {
    format!("/v21.0/{}/messages", ids::phone_number_id(NUMBER))
}

#[track_caller]
fn expect_cloud_error(reply: &Reply, status: u16, code: u64) {
    assert_eq!(
        (reply.status, reply.body["error"]["code"].as_u64()),
        (status, Some(code)),
        "{}",
        reply.body
    );
    let error = &reply.body["error"];
    assert_eq!(
        error["error_data"]["messaging_product"], "whatsapp",
        "{error}"
    );
    assert!(error["message"]
        .as_str()
        .unwrap()
        .starts_with(&format!("(#{code})")));
    assert!(!error["fbtrace_id"].as_str().unwrap().is_empty());
}

async fn a_missing_or_bad_token_is_190(backend: Backend) {
    let (app, _) = registered_app(backend).await;
    let text = json!({"messaging_product": "whatsapp", "to": "1", "text": {"body": "x"}});
    for auth in [None, Some("Bearer nonsense"), Some("Basic YWRtaW46eA==")] {
        let reply = app
            .call("POST", &messages_path(), auth, Some(text.clone()))
            .await;
        expect_cloud_error(&reply, 401, 190);
        assert_eq!(reply.body["error"]["type"], "OAuthException");
    }
    let waba = format!("/v19.0/{}/phone_numbers", ids::waba_id(NUMBER));
    expect_cloud_error(&app.call("GET", &waba, None, None).await, 401, 190);
}

async fn unknown_ids_are_100_with_subcode_33(backend: Backend) {
    let (app, token) = registered_app(backend).await;
    let auth = Some(token.as_str());
    let body = json!({"messaging_product": "whatsapp", "to": "1", "text": {"body": "x"}});
    let reply = app
        .call("POST", "/v21.0/123/messages", auth, Some(body))
        .await;
    expect_cloud_error(&reply, 400, 100);
    assert_eq!(reply.body["error"]["error_subcode"], 33);
    assert_eq!(reply.body["error"]["type"], "GraphMethodException");
    assert!(reply.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Unsupported post request. Object with ID '123' does not exist"));
    // The phone number id is no business account id, and the other way round.
    let swapped = format!("/v21.0/{}/phone_numbers", ids::phone_number_id(NUMBER));
    expect_cloud_error(&app.call("GET", &swapped, auth, None).await, 400, 100);
    let waba = format!("/v21.0/{}", ids::waba_id(NUMBER));
    expect_cloud_error(&app.call("GET", &waba, auth, None).await, 400, 100);
    // Paths and methods the surface does not serve.
    let unknown = app.call("GET", "/v21.0/1/2/3", auth, None).await;
    expect_cloud_error(&unknown, 400, 100);
    let wrong_method = app.call("DELETE", &messages_path(), auth, None).await;
    expect_cloud_error(&wrong_method, 400, 100);
    // The On-Prem paths are untouched by the version prefix.
    app.call("GET", "/v1/nothing", auth, None)
        .await
        .expect_error(404, 1006);
}

async fn bad_bodies_answer_cloud_codes_never_500(backend: Backend) {
    let (app, token) = registered_app(backend).await;
    let path = messages_path();
    let cases: [(&str, u16, u64); 8] = [
        ("{not json", 400, 100),
        ("[1, 2]", 400, 100),
        ("", 400, 100),
        (r#"{"to": "1", "text": {"body": "x"}}"#, 400, 100),
        (r#"{"messaging_product": "sms", "to": "1"}"#, 400, 100),
        (r#"{"messaging_product": "whatsapp", "type": 7}"#, 400, 100),
        (
            r#"{"messaging_product": "whatsapp", "type": "order", "to": "1"}"#,
            400,
            131051,
        ),
        (
            r#"{"messaging_product": "whatsapp", "status": "read"}"#,
            400,
            100,
        ),
    ];
    for (body, status, code) in cases {
        let reply = app.json_post(&token, &path, body).await;
        assert!(reply.status < 500, "{body}: {}", reply.body);
        expect_cloud_error(&reply, status, code);
    }
}

async fn the_registered_number_is_listed(backend: Backend) {
    let (app, token) = registered_app(backend).await;
    let waba = format!("/v21.0/{}/phone_numbers", ids::waba_id(NUMBER));
    let reply = app.call("GET", &waba, Some(&token), None).await;
    reply.expect_status(200);
    let number = &reply.body["data"][0];
    assert_eq!(number["id"], ids::phone_number_id(NUMBER));
    assert_eq!(number["display_phone_number"], format!("+{NUMBER}"));
    assert_eq!(number["verified_name"], "Shop");
    assert_eq!(number["quality_rating"], "GREEN");
    let one = format!("/v20.0/{}", ids::phone_number_id(NUMBER));
    let reply = app.call("GET", &one, Some(&token), None).await;
    reply.expect_status(200);
    assert_eq!(&reply.body, number);
}

/// Without a coreapp the relay answers On-Prem 1014; the Cloud surface says 131000.
async fn a_valid_send_reaches_the_relay(backend: Backend) {
    let (app, token) = registered_app(backend).await;
    let sends: [Value; 3] = [
        json!({"messaging_product": "whatsapp", "to": "1", "text": {"body": "x"}}),
        json!({"messaging_product": "whatsapp", "to": "1", "type": "template",
               "template": {"name": "t", "language": {"code": "en"}}}),
        json!({"messaging_product": "whatsapp", "status": "read", "message_id": "ABx"}),
    ];
    for body in sends {
        let reply = app
            .call("POST", &messages_path(), Some(&token), Some(body))
            .await;
        expect_cloud_error(&reply, 500, 131000);
        let details = reply.body["error"]["error_data"]["details"]
            .as_str()
            .unwrap();
        assert!(details.contains("wacore"), "{details}");
    }
}

async fn templates_are_read_through_the_relay(backend: Backend) {
    let (app, token) = registered_app(backend).await;
    let path = format!("/v21.0/{}/message_templates", ids::waba_id(NUMBER));
    let reply = app
        .call("GET", &format!("{path}?name=x"), Some(&token), None)
        .await;
    expect_cloud_error(&reply, 500, 131000);
    let elsewhere = format!("/v21.0/{}/message_templates", ids::phone_number_id(NUMBER));
    let reply = app.call("GET", &elsewhere, Some(&token), None).await;
    expect_cloud_error(&reply, 400, 100);
    expect_cloud_error(&app.call("GET", &path, None, None).await, 401, 190);
}

/// `POST`/`DELETE .../message_templates`: administrators only, Graph's parameter checks before
/// the coreapp is called (here there is none: a valid write reaches the relay and fails 131000).
async fn template_writes_check_the_caller_and_the_body(backend: Backend) {
    let (app, token) = registered_app(backend).await;
    let path = format!("/v21.0/{}/message_templates", ids::waba_id(NUMBER));
    let valid = json!({"name": "sale", "language": "en", "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Hi"}]});
    let reply = app
        .call("POST", &path, Some(&token), Some(valid.clone()))
        .await;
    expect_cloud_error(&reply, 500, 131000);
    let mut no_category = valid.clone();
    no_category.as_object_mut().unwrap().remove("category");
    let reply = app
        .call("POST", &path, Some(&token), Some(no_category))
        .await;
    expect_cloud_error(&reply, 400, 100);
    let mut wrong_kind = valid.clone();
    wrong_kind["components"] = json!({"type": "BODY"});
    let reply = app
        .call("POST", &path, Some(&token), Some(wrong_kind))
        .await;
    expect_cloud_error(&reply, 400, 100);
    let reply = app.json_post(&token, &path, "{\"name\": ").await;
    expect_cloud_error(&reply, 400, 100);
    let elsewhere = format!("/v21.0/{}/message_templates", ids::phone_number_id(NUMBER));
    let reply = app
        .call("POST", &elsewhere, Some(&token), Some(valid.clone()))
        .await;
    expect_cloud_error(&reply, 400, 100);
    expect_cloud_error(
        &app.call("DELETE", &path, Some(&token), None).await,
        400,
        100,
    );
    let reply = app
        .call("DELETE", &format!("{path}?name=sale"), Some(&token), None)
        .await;
    expect_cloud_error(&reply, 500, 131000);
    // A user who is not the administrator reads templates but cannot change them.
    let user = json!({"username": "clerk", "password": "S3cure!pass"});
    app.call("POST", "/v1/users", Some(&token), Some(user))
        .await
        .expect_status(201);
    let clerk = app.bearer("clerk", "S3cure!pass").await;
    let reply = app.call("POST", &path, Some(&clerk), Some(valid)).await;
    expect_cloud_error(&reply, 403, 131005);
    let reply = app
        .call("DELETE", &format!("{path}?name=sale"), Some(&clerk), None)
        .await;
    expect_cloud_error(&reply, 403, 131005);
}

/// The request limits live in the process: one backend shows the rule.
#[actix_web::test]
async fn cloud_sends_over_the_send_limit_get_130429_in_the_cloud_envelope() {
    let app = TestApp::with(Backend::Sqlite, |settings| {
        settings.webapp.messages_rate_per_sec = 1;
        settings.webapp.messages_rate_burst = 1;
    })
    .await;
    let token = app.first_login().await;
    let body = json!({"messaging_product": "whatsapp", "to": "1", "text": {"body": "x"}});
    let first = app
        .call("POST", &messages_path(), Some(&token), Some(body.clone()))
        .await;
    assert_ne!(first.status, 429, "{}", first.body);
    let second = app
        .call("POST", &messages_path(), Some(&token), Some(body))
        .await;
    expect_cloud_error(&second, 429, 130429);
    assert!(second.headers.contains_key("retry-after"));
    // The On-Prem send shares the bucket and keeps its own envelope.
    let onprem = json!({"to": "1", "text": {"body": "x"}});
    app.call("POST", "/v1/messages", Some(&token), Some(onprem))
        .await
        .expect_error(429, 1015);
}

async fn the_business_profile_checks_its_body(backend: Backend) {
    let (app, token) = registered_app(backend).await;
    let path = format!(
        "/v21.0/{}/whatsapp_business_profile",
        ids::phone_number_id(NUMBER)
    );
    expect_cloud_error(&app.call("GET", &path, None, None).await, 401, 190);
    expect_cloud_error(
        &app.call("GET", &path, Some(&token), None).await,
        500,
        131000,
    );
    let cases: [(&str, u64); 4] = [
        (r#"{"about": "x"}"#, 100),
        (
            r#"{"messaging_product": "whatsapp", "vertical": "SHOPS"}"#,
            100,
        ),
        (r#"{"messaging_product": "whatsapp", "about": ["x"]}"#, 100),
        ("{nope", 100),
    ];
    for (body, code) in cases {
        expect_cloud_error(&app.json_post(&token, &path, body).await, 400, code);
    }
    let fine = r#"{"messaging_product": "whatsapp", "vertical": "RETAIL"}"#;
    expect_cloud_error(&app.json_post(&token, &path, fine).await, 500, 131000);
}

async fn media_is_read_and_deleted_by_its_id(backend: Backend) {
    let media_dir = tempfile::tempdir().unwrap();
    let dir = media_dir.path().to_path_buf();
    let app = TestApp::with(backend, move |s| s.media_dir = dir).await;
    let (app, token) = registered_app_with(app).await;
    let bytes = b"%PDF-1.4 a small document".to_vec();
    let upload = app
        .request("POST", "/v1/media")
        .insert_header(("Authorization", token.as_str()))
        .insert_header(("Content-Type", "application/pdf"))
        .set_payload(bytes.clone());
    let reply = app.send(upload).await;
    reply.expect_status(201);
    let id = reply.body["media"][0]["id"].as_str().unwrap().to_string();
    // Cloud's form of the id is digits; the On-Prem id works on the Cloud path too.
    let cloud_id = ids::cloud_media_id(&id);
    assert!(cloud_id.bytes().all(|b| b.is_ascii_digit()), "{cloud_id}");
    let reply = app
        .call("GET", &format!("/v21.0/{id}"), Some(&token), None)
        .await;
    assert_eq!(reply.body["id"], cloud_id.as_str());

    let path = format!("/v21.0/{cloud_id}");
    let reply = app.call("GET", &path, Some(&token), None).await;
    reply.expect_status(200);
    assert_eq!(reply.body["id"], cloud_id.as_str());
    assert_eq!(reply.body["messaging_product"], "whatsapp");
    assert_eq!(reply.body["mime_type"], "application/pdf");
    assert_eq!(reply.body["file_size"], bytes.len());
    assert_eq!(reply.body["sha256"].as_str().unwrap().len(), 64);
    // The url downloads the bytes with the same token.
    let url = reply.body["url"].as_str().unwrap();
    let download = url
        .split_once("/v1/")
        .map(|(_, rest)| format!("/v1/{rest}"))
        .unwrap();
    let request = app
        .request("GET", &download)
        .insert_header(("Authorization", token.as_str()));
    let (reply, body) = app.send_raw(request).await;
    reply.expect_status(200);
    assert_eq!(body, bytes);

    expect_cloud_error(&app.call("GET", &path, None, None).await, 401, 190);
    let deleted = app.call("DELETE", &path, Some(&token), None).await;
    deleted.expect_status(200);
    assert_eq!(deleted.body, json!({"success": true}));
    for method in ["GET", "DELETE"] {
        let reply = app.call(method, &path, Some(&token), None).await;
        expect_cloud_error(&reply, 400, 100);
        assert_eq!(reply.body["error"]["error_subcode"], 33);
    }
}

/// A `multipart/form-data` body with `parts` (name, content type, bytes).
fn form(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = b"preamble to skip\r\n".to_vec();
    for (name, content_type, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disposition =
            format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"f\"\r\n");
        body.extend_from_slice(disposition.as_bytes());
        if let Some(content_type) = content_type {
            body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

async fn media_is_uploaded_as_a_multipart_form(backend: Backend) {
    let media_dir = tempfile::tempdir().unwrap();
    let dir = media_dir.path().to_path_buf();
    let app = TestApp::with(backend, move |s| s.media_dir = dir).await;
    let (app, token) = registered_app_with(app).await;
    let path = format!("/v21.0/{}/media", ids::phone_number_id(NUMBER));
    let upload = |body: Vec<u8>, content_type: &str| {
        app.request("POST", &path)
            .insert_header(("Authorization", token.as_str()))
            .insert_header(("Content-Type", content_type.to_string()))
            .set_payload(body)
    };
    let boundary = "----cloud-test-7f3a";
    let multipart = format!("multipart/form-data; boundary={boundary}");
    // The file's bytes hold a line that looks like a delimiter but is not one.
    let file = b"%PDF-1.4\r\n--cloud-test\r\nthe rest".to_vec();
    let body = form(
        boundary,
        &[
            ("messaging_product", None, b"whatsapp"),
            ("type", None, b"application/pdf"),
            ("file", Some("application/octet-stream"), &file),
        ],
    );
    let reply = app.send(upload(body, &multipart)).await;
    reply.expect_status(200);
    let id = reply.body["id"].as_str().unwrap().to_string();
    assert!(
        id.bytes().all(|b| b.is_ascii_digit()),
        "Cloud media ids are digits: {id}"
    );
    let meta = app
        .call("GET", &format!("/v21.0/{id}"), Some(&token), None)
        .await;
    assert_eq!(meta.body["mime_type"], "application/pdf", "{}", meta.body);
    assert_eq!(meta.body["file_size"], file.len());
    let request = app
        .request("GET", &format!("/v1/media/{}", ids::onprem_media_id(&id)))
        .insert_header(("Authorization", token.as_str()));
    assert_eq!(app.send_raw(request).await.1, file);

    // The part's own type wins; fields after the file are not needed.
    let body = form(
        boundary,
        &[
            ("file", Some("image/png"), b"png bytes"),
            ("type", None, b"x"),
        ],
    );
    let reply = app.send(upload(body, &multipart)).await;
    reply.expect_status(200);

    let bad: [(Vec<u8>, &str, u64); 5] = [
        (b"{}".to_vec(), "application/json", 100),
        (
            form(boundary, &[("type", None, b"image/png")]),
            &multipart,
            100,
        ),
        (form(boundary, &[("file", None, b"x")]), &multipart, 100),
        (b"--nope".to_vec(), &multipart, 100),
        (
            form(boundary, &[("file", Some("image/gif"), b"x")]),
            &multipart,
            131009,
        ),
    ];
    for (body, content_type, code) in bad {
        let reply = app.send(upload(body, content_type)).await;
        expect_cloud_error(&reply, 400, code);
    }
}

/// `POST .../register` and `/deregister`: administrators only, the number's id, Graph's checks
/// of the body before the coreapp is called (here there is none: a valid call fails 131000).
async fn register_and_deregister_check_the_caller_and_the_body(backend: Backend) {
    let (app, token) = registered_app(backend).await;
    let number = ids::phone_number_id(NUMBER);
    let register = format!("/v21.0/{number}/register");
    let deregister = format!("/v21.0/{number}/deregister");
    let valid = json!({"messaging_product": "whatsapp", "pin": "123456"});
    let reply = app
        .call("POST", &register, Some(&token), Some(valid.clone()))
        .await;
    expect_cloud_error(&reply, 500, 131000);
    expect_cloud_error(
        &app.call("POST", &deregister, Some(&token), None).await,
        500,
        131000,
    );
    for bad in [
        json!({"pin": "123456"}),
        json!({"messaging_product": "whatsapp"}),
        json!({"messaging_product": "whatsapp", "pin": "12 456"}),
        json!({"messaging_product": "whatsapp", "pin": ["123456"]}),
    ] {
        let reply = app.call("POST", &register, Some(&token), Some(bad)).await;
        expect_cloud_error(&reply, 400, 100);
    }
    expect_cloud_error(
        &app.json_post(&token, &register, "{\"pin\": ").await,
        400,
        100,
    );
    let waba = format!("/v21.0/{}/register", ids::waba_id(NUMBER));
    let reply = app
        .call("POST", &waba, Some(&token), Some(valid.clone()))
        .await;
    expect_cloud_error(&reply, 400, 100);
    assert_eq!(reply.body["error"]["error_subcode"], 33);
    expect_cloud_error(
        &app.call("GET", &register, Some(&token), None).await,
        400,
        100,
    );
    expect_cloud_error(&app.call("POST", &deregister, None, None).await, 401, 190);
    let user = json!({"username": "clerk", "password": "S3cure!pass"});
    app.call("POST", "/v1/users", Some(&token), Some(user))
        .await
        .expect_status(201);
    let clerk = app.bearer("clerk", "S3cure!pass").await;
    let reply = app.call("POST", &register, Some(&clerk), Some(valid)).await;
    expect_cloud_error(&reply, 403, 131005);
    let reply = app.call("POST", &deregister, Some(&clerk), None).await;
    expect_cloud_error(&reply, 403, 131005);
}

/// The webapp reads the mark from the store: the number is listed `DISCONNECTED` and a send is
/// 133010 before it reaches the coreapp; registered again, it is `CONNECTED`.
async fn a_deregistered_number_is_disconnected_and_refuses_sends(backend: Backend) {
    let (app, token) = registered_app(backend).await;
    let one = format!("/v21.0/{}", ids::phone_number_id(NUMBER));
    let status = |reply: &Reply| {
        reply.body["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        status(&app.call("GET", &one, Some(&token), None).await),
        "CONNECTED"
    );
    app.state().store.set_deregistered(Some(1)).await.unwrap();
    assert_eq!(
        status(&app.call("GET", &one, Some(&token), None).await),
        "DISCONNECTED"
    );
    let text = json!({"messaging_product": "whatsapp", "to": "1", "text": {"body": "x"}});
    let reply = app
        .call("POST", &messages_path(), Some(&token), Some(text))
        .await;
    expect_cloud_error(&reply, 400, 133010);
    app.state().store.set_deregistered(None).await.unwrap();
    assert_eq!(
        status(&app.call("GET", &one, Some(&token), None).await),
        "CONNECTED"
    );
}
