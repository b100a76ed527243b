//! Bad input to the relayed endpoints gets its On-Prem code and status, never a 500
//! (design.md §3, invariants 5 and 6), checked across the webapp and the coreapp. The webapp's
//! own rules (users, login, tokens, roles) are tested in process: `crates/webapp/tests/users.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{env, Messaging, FAST_PHONES};
use e2e::Receiver;
use serde_json::json;
use wa_store::testing::TestDb;
use wa_store::Backend;

/// A raw request to the messaging, media and stickerpack endpoints and the error it must get.
struct RawCase {
    method: &'static str,
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: u64,
    details: String,
}

const JSON: Option<&str> = Some("application/json");
const BODY_LIMIT: usize = 4096;

fn raw(
    method: &'static str,
    path: &str,
    body: impl Into<Vec<u8>>,
    (status, code, details): (u16, u64, &str),
) -> RawCase {
    RawCase {
        method,
        path: path.to_string(),
        content_type: JSON,
        body: body.into(),
        status,
        code,
        details: details.to_string(),
    }
}

fn syntax_error() -> (u16, u64, &'static str) {
    (
        400,
        1025,
        "Unable to decode json from the request: Syntax error",
    )
}

/// Every JSON-body endpoint of messaging and stickerpacks: malformed, nested too deep, a number
/// serde cannot hold, not UTF-8, and over `max_body_bytes`.
fn undecodable_bodies(pack: &str) -> Vec<RawCase> {
    let too_large = format!("Request body is too large: the limit is {BODY_LIMIT} bytes");
    let oversize = format!("{{\"to\": \"{}\"}}", "1".repeat(BODY_LIMIT));
    let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    let json_endpoints = [
        ("POST", "/v1/messages".to_string()),
        (
            "PUT",
            "/v1/messages/ABGGFlA5FpafAgo6tHcNmNjXmuSf".to_string(),
        ),
        ("POST", "/v1/stickerpacks".to_string()),
        ("PATCH", format!("/v1/stickerpacks/{pack}")),
        ("POST", format!("/v1/stickerpacks/{pack}/stickers")),
        ("PATCH", format!("/v1/stickerpacks/{pack}/stickers/0")),
    ];
    let providers = "/v1/settings/application/media/providers";
    let mut cases = vec![
        raw("POST", providers, "[{\"name\": ", syntax_error()),
        raw("POST", providers, oversize.clone(), (400, 1009, &too_large)),
    ];
    for (method, path) in json_endpoints {
        cases.push(raw(method, &path, "{\"to\": ", syntax_error()));
        cases.push(raw(method, &path, deep.clone(), syntax_error()));
        cases.push(raw(method, &path, "{\"to\": 1e400}", syntax_error()));
        cases.push(raw(
            method,
            &path,
            b"{\"to\": \"\xff\"}".to_vec(),
            syntax_error(),
        ));
        cases.push(raw(
            method,
            &path,
            oversize.clone(),
            (400, 1009, &too_large),
        ));
    }
    cases
}

/// Bodies that decode but are not the object the endpoint wants: missing fields, wrong types,
/// non-object JSON (an empty parameter set, as in the original), JSON sent as another type.
fn wrong_shapes(pack: &str) -> Vec<RawCase> {
    let stickers = format!("/v1/stickerpacks/{pack}/stickers");
    let missing_to = (400, 1008, "Missing mandatory parameter 'to'");
    let no_valid = (400, 1009, "No valid parameters provided");
    // A JSON body is read as JSON whatever its declared type (docs/compatibility.md).
    let bad_to = (400, 1009, "Parameter 'to' has invalid value '{\"a\":1}'");
    let json_as = |content_type: Option<&'static str>| {
        let mut case = raw("POST", "/v1/messages", "{\"to\": {\"a\": 1}}", bad_to);
        case.content_type = content_type;
        case
    };
    let mut form = raw(
        "POST",
        "/v1/messages",
        "to=16315550100",
        (
            400,
            1025,
            "Unable to decode json from the request: Syntax error",
        ),
    );
    form.content_type = Some("application/x-www-form-urlencoded");
    vec![
        json_as(Some("text/plain")),
        json_as(Some("application/JSON")),
        json_as(None),
        form,
        raw("POST", "/v1/messages", "[1, 2]", missing_to),
        raw("POST", "/v1/messages", "\"to\"", missing_to),
        raw("POST", "/v1/messages", "", missing_to),
        raw("POST", "/v1/messages", "{\"to\": null}", missing_to),
        raw(
            "POST",
            "/v1/messages",
            "{\"to\": {\"a\": 1}}",
            (400, 1009, "Parameter 'to' has invalid value '{\"a\":1}'"),
        ),
        raw(
            "POST",
            "/v1/messages",
            "{\"to\": \"16315550100\", \"text\": [\"hi\"]}",
            (400, 1009, "Parameter 'text' has invalid value '[\"hi\"]'"),
        ),
        raw(
            "PUT",
            "/v1/messages/ABGGFlA5FpafAgo6tHcNmNjXmuSf",
            "{}",
            (400, 1008, "Missing mandatory parameter 'status'"),
        ),
        raw(
            "PUT",
            "/v1/messages/ABGGFlA5FpafAgo6tHcNmNjXmuSf",
            "{\"status\": true}",
            (400, 1009, "Parameter 'status' has invalid value 'true'"),
        ),
        raw(
            "POST",
            "/v1/stickerpacks",
            "[]",
            (400, 1008, "Missing mandatory parameter 'publisher'"),
        ),
        raw(
            "POST",
            "/v1/stickerpacks",
            "{\"publisher\": [\"p\"], \"name\": \"n\"}",
            (
                400,
                1009,
                "Parameter 'publisher' has invalid value '[\"p\"]'",
            ),
        ),
        raw("PATCH", &format!("/v1/stickerpacks/{pack}"), "7", no_valid),
        raw(
            "POST",
            &stickers,
            "{\"image_data_id\": {}}",
            (
                400,
                1009,
                "Parameter 'image_data_id' has invalid value '{}'",
            ),
        ),
        raw(
            "PATCH",
            &format!("{stickers}/0"),
            "{\"emojis\": [1]}",
            (400, 1009, "Parameter 'emojis' has invalid value '[1]'"),
        ),
    ]
}

/// Unknown ids and paths on the same endpoints.
fn unknown_ids(pack: &str) -> Vec<RawCase> {
    let media = "0b7c5d6e-0000-4000-8000-00000000dead";
    let read = "{\"status\": \"read\"}";
    vec![
        // An empty 404, as spec onprem-messaging §5.2 prefers for an unknown id.
        raw("GET", &format!("/v1/media/{media}"), "", (404, 0, "")),
        raw(
            "DELETE",
            "/v1/settings/application/media/providers/nope",
            "",
            (404, 1006, "Media provider 'nope' not found"),
        ),
        raw(
            "PUT",
            "/v1/messages/ABGGFlA5FpafAgo6tHcNmNjXmuSf",
            read,
            (
                404,
                1006,
                "Message 'ABGGFlA5FpafAgo6tHcNmNjXmuSf' not found",
            ),
        ),
        raw(
            "PUT",
            "/v1/messages/..%2F..%2Fetc",
            read,
            (404, 1006, "Message '../../etc' not found"),
        ),
        raw(
            "DELETE",
            &format!("/v1/media/{media}"),
            "",
            (404, 1006, &format!("Media '{media}' not found")),
        ),
        raw(
            "DELETE",
            "/v1/media/not-a-media-id",
            "",
            (404, 1006, "Media 'not-a-media-id' not found"),
        ),
        raw(
            "GET",
            &format!("/v1/stickerpacks/{pack}/stickers/0/extra"),
            "",
            (404, 1006, "URL path not found"),
        ),
        raw(
            "GET",
            "/v1/stickerpacks/nope/stickers/99999999999999999999",
            "",
            (404, 1006, "Stickerpack nope not found"),
        ),
        raw(
            "GET",
            &format!("/v1/stickerpacks/{pack}/stickers/99999999999999999999"),
            "",
            (404, 1006, "Sticker 99999999999999999999 not found"),
        ),
        // A repeated key: the last one counts, as in the original's PHP.
        raw(
            "GET",
            "/v1/stickerpacks?namespace=third_party&namespace=martian",
            "",
            (
                400,
                1009,
                "Parameter 'namespace' has invalid value 'martian'",
            ),
        ),
        raw(
            "GET",
            "/v1/stickerpacks?namespace=%ZZ",
            "",
            (400, 1009, "Parameter 'namespace' has invalid value '%ZZ'"),
        ),
    ]
}

#[test]
fn messaging_media_and_stickerpacks_refuse_bad_input_with_their_codes() {
    let receiver = Receiver::start();
    let db = TestDb::new(Backend::Sqlite);
    let limit = BODY_LIMIT.to_string();
    let db_env = env(&[
        ("ONPREM__DATABASE__URL", &db.url),
        ("ONPREM__WEBAPP__MAX_BODY_BYTES", &limit),
    ]);
    let stack = Messaging::start(&db_env, FAST_PHONES, &receiver.url());
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
    let cases = [
        undecodable_bodies(&pack),
        wrong_shapes(&pack),
        unknown_ids(&pack),
    ];
    let mut failures = Vec::new();
    for case in cases.into_iter().flatten() {
        let mut request = api
            .request(case.method, &case.path)
            .header("Authorization", &stack.admin)
            .body(case.body.clone());
        if let Some(content_type) = case.content_type {
            request = request.header("Content-Type", content_type);
        }
        let r = api.send(request);
        let got = (r.status, r.code(), r.details().to_string());
        if got != (case.status, case.code, case.details.clone()) {
            let shown = String::from_utf8_lossy(&case.body);
            let shown: String = shown.chars().take(80).collect();
            failures.push(format!(
                "{} {} {shown}\n  want {} {} {:?}\n  got  {got:?}",
                case.method, case.path, case.status, case.code, case.details
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Without a token every one of these endpoints is 401/1005 before anything else.
    for (method, path) in [
        ("POST", "/v1/messages"),
        ("PUT", "/v1/messages/ABGGFlA5FpafAgo6tHcNmNjXmuSf"),
        ("GET", "/v1/media/0b7c5d6e-0000-4000-8000-00000000dead"),
        ("DELETE", "/v1/media/0b7c5d6e-0000-4000-8000-00000000dead"),
        ("GET", "/v1/stickerpacks"),
        ("POST", "/v1/stickerpacks"),
        ("DELETE", "/v1/stickerpacks/nope/stickers/0"),
    ] {
        let r = api.call(method, path, None, Some(json!({})));
        assert_eq!(
            (r.status, r.code()),
            (401, 1005),
            "{method} {path}: {:#?}",
            r.body
        );
    }
}
