//! Every string field of every request type fed an over-long value gets 400/1009 from validation,
//! never a 500 from the database (the limits are one table, `wa_api::limits`): on MariaDB, where a
//! value too long for its column failed with "Data too long", and on PostgreSQL and SQLite. Each
//! JSON endpoint has a valid sample body; each string in it (found by walking the sample, so a
//! field added to a sample is covered without listing it) is replaced in turn. Ids in paths and
//! the headers that are stored or compared get the same treatment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{messaging_on, Messaging, BUSINESS_CC, BUSINESS_NUMBER};
use serde_json::{json, Value};
use wa_api::testing::{message_samples, replaced, string_paths};
use wa_store::Backend;

/// Longer than any limit (the longest is 32,768 characters), well inside the body size limit.
const LONG: usize = 70_000;
const TO: &str = "16315550100";

/// `(method, path, sample body)` for every endpoint that reads a JSON body.
fn samples(pack: &str) -> Vec<(&'static str, String, Value)> {
    let media_id = "f1e2d3c4-0000-4000-8000-000000000000";
    let mut cases = vec![
        (
            "POST",
            "/v1/users".into(),
            json!({"username": "clerk", "password": "S3cure!pass"}),
        ),
        (
            "PUT",
            "/v1/users/clerk".into(),
            json!({"password": "S3cure!pass2"}),
        ),
        (
            "POST",
            "/v1/account".into(),
            json!({"cc": BUSINESS_CC, "phone_number": BUSINESS_NUMBER,
            "method": "sms", "cert": "Q2VydA==", "pin": "123456"}),
        ),
        (
            "POST",
            "/v1/account/verify".into(),
            json!({"code": "123-456", "pin": "123456"}),
        ),
        (
            "POST",
            "/v1/account/shards".into(),
            json!({"cc": BUSINESS_CC,
            "phone_number": BUSINESS_NUMBER, "shards": 1, "cert": "Q2VydA==", "pin": "123456"}),
        ),
        (
            "PATCH",
            "/v1/settings/application".into(),
            json!({"webhooks": {"url": "https://example.com/hook"},
            "on_call_pager": "16315550123", "log_level": "info"}),
        ),
        (
            "PATCH",
            "/v1/settings/profile/about".into(),
            json!({"text": "Open 9-5"}),
        ),
        (
            "POST",
            "/v1/settings/business/profile".into(),
            json!({"address": "1 Main St",
            "description": "Shop", "email": "shop@example.com", "vertical": "Retail",
            "websites": ["https://example.com"]}),
        ),
        (
            "POST",
            "/v1/settings/business/compliance_info".into(),
            json!({"entity_name": "Acme",
            "entity_type": "Other", "entity_type_custom": "Co-op", "is_registered": false,
            "grievance_officer_details": {"name": "G", "email": "g@example.com", "mobile_number": "+16315550101"},
            "customer_care_details": {"email": "c@example.com", "mobile_number": "+16315550102"}}),
        ),
        (
            "POST",
            "/v1/settings/account/two-step".into(),
            json!({"pin": "123456"}),
        ),
        (
            "POST",
            "/v1/settings/backup".into(),
            json!({"password": "backup-pass"}),
        ),
        (
            "POST",
            "/v1/contacts".into(),
            json!({"blocking": "wait", "contacts": ["+16315550100"],
            "force_check": true}),
        ),
        (
            "PUT",
            format!("/v1/contacts/{TO}/identity"),
            json!({"hash": "aGFzaA=="}),
        ),
        (
            "PUT",
            "/v1/messages/gBGGFlA5FpafAgo6tHcNmNjXmuSf".into(),
            json!({"status": "read"}),
        ),
        (
            "POST",
            "/v1/stickerpacks".into(),
            json!({"publisher": "Acme", "name": "Cats",
            "ios_app_store_link": "https://apps.example.com/i", "android_app_store_link": "https://apps.example.com/a"}),
        ),
        (
            "PATCH",
            format!("/v1/stickerpacks/{pack}"),
            json!({"publisher": "Acme", "name": "Dogs"}),
        ),
        (
            "POST",
            format!("/v1/stickerpacks/{pack}/stickers"),
            json!({"image_data_id": media_id, "emojis": ["😀"]}),
        ),
        (
            "PATCH",
            format!("/v1/stickerpacks/{pack}/stickers/0"),
            json!({"emojis": ["😀"]}),
        ),
    ];
    cases.extend(
        message_samples(TO)
            .into_iter()
            .map(|m| ("POST", "/v1/messages".to_string(), m)),
    );
    cases
}

fn every_over_long_value_is_refused(backend: Backend) {
    let (_db, _receiver, stack) = messaging_on(
        backend,
        &[
            ("ONPREM__WEBAPP__MESSAGES_RATE_PER_SEC", "0"),
            ("ONPREM__WEBAPP__ENDPOINT_RATE_PER_SEC", "0"),
            ("ONPREM__WEBAPP__USER_CHANGES_MAX", "100000"),
        ],
    );
    stack.register();
    let api = stack.api();
    let r = api.call(
        "POST",
        "/v1/stickerpacks",
        Some(&stack.admin),
        Some(json!({"publisher": "Acme", "name": "Cats"})),
    );
    r.expect_status(201);
    let pack = r.body["stickerpacks"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let long = "x".repeat(LONG);
    let mut failures = Vec::new();
    let mut cases = 0;
    for (method, path, sample) in samples(&pack) {
        for field in string_paths(&sample) {
            cases += 1;
            let body = replaced(&sample, &field, Value::String(long.clone()));
            let r = api.call(method, &path, Some(&stack.admin), Some(body));
            if (r.status, r.code()) != (400, 1009) {
                failures.push(format!(
                    "{method} {path} {}: {} {}",
                    field.join("."),
                    r.status,
                    r.details()
                ));
            }
        }
    }
    // Media providers: the body is an array.
    let provider =
        json!([{"name": "p", "type": "www", "config": {"basic": {"user": "u", "password": "p"}}}]);
    for field in [
        ["0", "name"].as_slice(),
        &["0", "config", "basic", "password"],
    ] {
        cases += 1;
        let field: Vec<String> = field.iter().map(|s| s.to_string()).collect();
        let body = replaced(&provider, &field, Value::String(long.clone()));
        let r = api.call(
            "POST",
            "/v1/settings/application/media/providers",
            Some(&stack.admin),
            Some(body),
        );
        if (r.status, r.code()) != (400, 1009) {
            failures.push(format!(
                "providers {}: {} {}",
                field.join("."),
                r.status,
                r.details()
            ));
        }
    }
    // Every endpoint's sample walked: a sample that lost its strings would test nothing.
    assert!(cases > 100, "only {cases} body cases");
    check_headers(&stack, &long, &mut failures);
    check_path_ids(&stack, &pack, &mut failures);
    assert!(
        failures.is_empty(),
        "{} of {cases} body cases and the header/path cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The headers that are kept (a media upload's type) or looked up (an idempotency key).
fn check_headers(stack: &Messaging, long: &str, failures: &mut Vec<String>) {
    let mime = format!("audio/ogg; codecs=opus; x={}", &long[..300]);
    let r = stack.post_media(&mime, b"OggS".to_vec());
    if (r.status, r.code()) != (400, 1009) {
        failures.push(format!("media Content-Type: {} {}", r.status, r.details()));
    }
    let request = stack
        .api()
        .request("POST", "/v1/messages")
        .header("Authorization", &stack.admin)
        .header("Idempotency-Key", &long[..300])
        .header("Content-Type", "application/json")
        .body(json!({"to": TO, "text": {"body": "hi"}}).to_string());
    let r = stack.api().send(request);
    if (r.status, r.code()) != (400, 1009) {
        failures.push(format!("Idempotency-Key: {} {}", r.status, r.details()));
    }
}

/// Ids in paths longer than any stored id: not found or refused, never a database error.
fn check_path_ids(stack: &Messaging, pack: &str, failures: &mut Vec<String>) {
    let id = "9".repeat(2000);
    let read = Some(json!({"status": "read"}));
    for (method, path, body) in [
        ("GET", format!("/v1/messages/{id}"), None),
        ("PUT", format!("/v1/messages/{id}"), read),
        ("GET", format!("/v1/media/{id}"), None),
        ("DELETE", format!("/v1/media/{id}"), None),
        ("GET", format!("/v1/contacts/{id}/identity"), None),
        (
            "PUT",
            format!("/v1/contacts/{id}/identity"),
            Some(json!({"hash": "aGFzaA=="})),
        ),
        ("GET", format!("/v1/stickerpacks/{id}"), None),
        (
            "PATCH",
            format!("/v1/stickerpacks/{id}"),
            Some(json!({"name": "n"})),
        ),
        ("DELETE", format!("/v1/stickerpacks/{id}"), None),
        (
            "GET",
            format!("/v1/stickerpacks/{pack}/stickers/{id}"),
            None,
        ),
        ("GET", format!("/v1/users/{id}"), None),
        (
            "PUT",
            format!("/v1/users/{id}"),
            Some(json!({"password": "S3cure!pass3"})),
        ),
        ("DELETE", format!("/v1/users/{id}"), None),
        (
            "DELETE",
            format!("/v1/settings/application/media/providers/{id}"),
            None,
        ),
    ] {
        let r = stack.api().call(method, &path, Some(&stack.admin), body);
        if !(400..500).contains(&r.status) {
            failures.push(format!(
                "{method} {}...: {} {}",
                &path[..30],
                r.status,
                r.details()
            ));
        }
    }
}

#[test]
fn every_over_long_value_is_refused_on_mysql() {
    every_over_long_value_is_refused(Backend::Mysql);
}

#[test]
fn every_over_long_value_is_refused_on_postgres() {
    every_over_long_value_is_refused(Backend::Postgres);
}

#[test]
fn every_over_long_value_is_refused_on_sqlite() {
    every_over_long_value_is_refused(Backend::Sqlite);
}
