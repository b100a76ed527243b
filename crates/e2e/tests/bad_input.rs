//! Bad input and bad credentials get their On-Prem code and status, never a 500
//! (design.md §3, invariants 5 and 6).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use e2e::stack::{env, launcher, Messaging, Running, FAST_PHONES};
use e2e::{basic, Receiver, ADMIN_PASSWORD};
use serde_json::json;
use wa_store::testing::TestDb;
use wa_store::Backend;

fn ready_stack(extra_env: &[(&str, &str)]) -> (tempfile::TempDir, Running, String) {
    let data = tempfile::tempdir().unwrap();
    let stack = launcher(data.path(), extra_env);
    let admin = stack.client.first_login(ADMIN_PASSWORD);
    (data, stack, admin)
}

#[test]
fn malformed_bodies_and_wrong_types() {
    let (_data, stack, admin) = ready_stack(&[("ONPREM__WEBAPP__MAX_BODY_BYTES", "4096")]);
    let api = &stack.client;
    let json_post = |path: &str, body: &'static str| {
        api.send(
            api.request("POST", path)
                .header("Authorization", &admin)
                .header("Content-Type", "application/json")
                .body(body),
        )
    };

    let r = json_post("/v1/users", "{\"username\": \"jdoe\", ");
    r.expect_error(400, 1025);
    assert_eq!(
        r.details(),
        "Unable to decode json from the request: Syntax error"
    );
    json_post("/v1/users", "{}").expect_error(400, 1008);
    let r = json_post("/v1/users", "{\"username\": \"jdoe\"}");
    r.expect_error(400, 1008);
    assert_eq!(r.details(), "Missing mandatory parameter 'password'");
    let r = json_post(
        "/v1/users",
        "{\"username\": 42, \"password\": \"S3cure!pass\"}",
    );
    r.expect_error(400, 1009);
    assert_eq!(r.details(), "Parameter 'username' has invalid value '42'");
    json_post(
        "/v1/users",
        "{\"username\": \"jdoe\", \"password\": [\"S3cure!pass\"]}",
    )
    .expect_error(400, 1009);
    // A JSON value that is not an object is an empty parameter set, as in the original.
    json_post("/v1/users", "[1, 2, 3]").expect_error(400, 1008);
    json_post("/v1/users", "\"just a string\"").expect_error(400, 1008);

    let r = json_post(
        "/v1/users",
        "{\"username\": \"j d\", \"password\": \"S3cure!pass\"}",
    );
    r.expect_error(400, 1009);
    assert_eq!(r.details(), "Username contains prohibited characters");
    let r = json_post(
        "/v1/users",
        "{\"username\": \"ab\", \"password\": \"S3cure!pass\"}",
    );
    assert_eq!(r.details(), "Username doesn't meet length requirements");
    let r = json_post(
        "/v1/users",
        "{\"username\": \"jdoe\", \"password\": \"short\"}",
    );
    r.expect_error(400, 1009);
    assert!(r
        .details()
        .starts_with("Password doesn't meet complexity requirements"));

    // Oversize body: refused while streaming, with a JSON error.
    let huge = format!("{{\"username\": \"{}\"}}", "x".repeat(10_000));
    let r = api.send(
        api.request("POST", "/v1/users")
            .header("Authorization", &admin)
            .header("Content-Type", "application/json")
            .body(huge),
    );
    r.expect_error(400, 1009);
    assert!(r.details().contains("too large"), "{}", r.details());

    // Login bodies are parsed too.
    let r = api.send(
        api.request("POST", "/v1/users/login")
            .header("Authorization", basic("admin", ADMIN_PASSWORD))
            .header("Content-Type", "application/json")
            .body("{not json"),
    );
    r.expect_error(400, 1025);
    api.login(
        "admin",
        ADMIN_PASSWORD,
        Some(json!({"new_password": 12345})),
    )
    .expect_error(400, 1009);

    // Duplicates: 409/1004 rather than the original's 500 (see docs/compatibility.md).
    api.call(
        "POST",
        "/v1/users",
        Some(&admin),
        Some(json!({"username": "jdoe", "password": "S3cure!pass"})),
    )
    .expect_status(201);
    api.call(
        "POST",
        "/v1/users",
        Some(&admin),
        Some(json!({"username": "jdoe", "password": "S3cure!pass"})),
    )
    .expect_error(409, 1004);
    // Trailing slash is the same route.
    api.call(
        "POST",
        "/v1/users/",
        Some(&admin),
        Some(json!({"username": "jdoe2", "password": "S3cure!pass"})),
    )
    .expect_status(201);

    // Unknown ids and paths.
    api.call("GET", "/v1/users/nobody", Some(&admin), None)
        .expect_error(404, 1006);
    api.call(
        "PUT",
        "/v1/users/nobody",
        Some(&admin),
        Some(json!({"password": "S3cure!pass"})),
    )
    .expect_error(404, 1006);
    api.call("DELETE", "/v1/users/nobody", Some(&admin), None)
        .expect_error(404, 1006);
    api.call("GET", "/v2/anything", None, None)
        .expect_error(404, 1006);
    // A known path with a method it does not route.
    api.call("GET", "/v1/users/login", None, None)
        .expect_error(405, 1014);
}

#[test]
fn credentials_tokens_and_roles() {
    let (_data, stack, admin) = ready_stack(&[("ONPREM__WEBAPP__FAILED_LOGINS_MAX", "1000")]);
    let api = &stack.client;

    // Broken Authorization headers on login: 401 with the Basic challenge, never 500.
    for header in [
        "Basic",
        "Basic !!!notbase64",
        "Basic bm9jb2xvbg==",
        "Digest abc",
        "",
        "Bearer",
    ] {
        let r = api.call("POST", "/v1/users/login", Some(header), None);
        r.expect_error(401, 1005);
    }
    let r = api.send(api.request("POST", "/v1/users/login"));
    r.expect_error(401, 1005);
    assert!(r.headers.contains_key("www-authenticate"));
    api.login("admin", "wrong", None).expect_error(401, 1005);
    api.login("nobody", "wrong", None).expect_error(401, 1005);
    // Basic credentials are refused on other endpoints.
    api.call(
        "GET",
        "/v1/users/admin",
        Some(&basic("admin", ADMIN_PASSWORD)),
        None,
    )
    .expect_error(401, 1005);
    // No credentials at all.
    api.call("GET", "/v1/health", None, None)
        .expect_error(401, 1005);
    api.call("POST", "/v1/users/logout", None, None)
        .expect_error(401, 1005);

    // Forged tokens: a changed payload, a changed signature, alg none, garbage.
    let token = admin.trim_start_matches("Bearer ");
    let parts: Vec<&str> = token.split('.').collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims: serde_json::Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["user"], "admin");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        604_800
    );
    assert_eq!(claims["wa:rand"].as_str().unwrap().len(), 32);
    let mut longer = claims.clone();
    longer["exp"] = json!(claims["exp"].as_i64().unwrap() + 1_000_000);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(longer.to_string()),
        parts[2]
    );
    let resigned = format!("{}.{}.{}", parts[0], parts[1], b64.encode([7u8; 32]));
    let none_alg = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    for forged in [
        tampered,
        resigned,
        none_alg,
        "garbage".to_string(),
        "a.b.c".to_string(),
    ] {
        api.call(
            "GET",
            "/v1/users/admin",
            Some(&format!("Bearer {forged}")),
            None,
        )
        .expect_error(401, 1005);
    }

    // Roles: a regular user may not create, delete, or touch others.
    api.call(
        "POST",
        "/v1/users",
        Some(&admin),
        Some(json!({"username": "alice", "password": "Al1ce!pass"})),
    )
    .expect_status(201);
    api.call(
        "POST",
        "/v1/users",
        Some(&admin),
        Some(json!({"username": "bob.b", "password": "B0b!passwd"})),
    )
    .expect_status(201);
    let alice = api.bearer("alice", "Al1ce!pass");
    let bob = api.bearer("bob.b", "B0b!passwd");
    let r = api.call(
        "POST",
        "/v1/users",
        Some(&alice),
        Some(json!({"username": "eve1", "password": "Ev3!passwd"})),
    );
    r.expect_error(403, 1005);
    assert_eq!(r.details(), "User doesn't have permission");
    api.call("DELETE", "/v1/users/bob.b", Some(&alice), None)
        .expect_error(403, 1005);
    let r = api.call(
        "PUT",
        "/v1/users/bob.b",
        Some(&alice),
        Some(json!({"password": "N3w!passwd"})),
    );
    r.expect_error(403, 1005);
    assert_eq!(r.details(), "Regular user cannot modify other user");
    // A user changes its own password; its existing tokens stay valid (as in the original).
    api.call(
        "PUT",
        "/v1/users/alice",
        Some(&alice),
        Some(json!({"password": "N3w!passwd"})),
    )
    .expect_status(200);
    api.call("GET", "/v1/users/alice", Some(&alice), None)
        .expect_status(200);
    api.login("alice", "Al1ce!pass", None)
        .expect_error(401, 1005);
    api.bearer("alice", "N3w!passwd");
    // The admin changes someone else's password.
    api.call(
        "PUT",
        "/v1/users/bob.b",
        Some(&admin),
        Some(json!({"password": "Adm1n!set"})),
    )
    .expect_status(200);
    api.bearer("bob.b", "Adm1n!set");
    // Deleting a user revokes every token it had.
    let r = api.call("DELETE", "/v1/users/bob.b", Some(&admin), None);
    r.expect_status(200);
    assert_eq!(r.body["users"][0]["username"], "bob.b");
    api.call("GET", "/v1/users/bob.b", Some(&bob), None)
        .expect_error(401, 1005);
    api.call("GET", "/v1/users/bob.b", Some(&admin), None)
        .expect_error(404, 1006);
    // The reserved API-key user name cannot be taken.
    let r = api.call(
        "POST",
        "/v1/users",
        Some(&admin),
        Some(json!({"username": "__apikey__", "password": "Ap1!keyuser"})),
    );
    r.expect_error(400, 1009);
    assert_eq!(r.details(), "Invalid Username");
}

#[test]
fn expired_tokens_are_refused() {
    let (_data, stack, _) = ready_stack(&[("ONPREM__WEBAPP__TOKEN_LIFETIME_SECS", "1")]);
    let api = &stack.client;
    let token = api.bearer("admin", ADMIN_PASSWORD);
    api.call("GET", "/v1/users/admin", Some(&token), None)
        .expect_status(200);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    api.call("GET", "/v1/users/admin", Some(&token), None)
        .expect_error(401, 1005);
}

#[test]
fn user_management_is_rate_limited_per_ip() {
    let (_data, stack, admin) = ready_stack(&[("ONPREM__WEBAPP__USER_CHANGES_MAX", "3")]);
    let api = &stack.client;
    for i in 0..3 {
        let body = json!({"username": format!("user{i}"), "password": "S3cure!pass"});
        api.call("POST", "/v1/users", Some(&admin), Some(body))
            .expect_status(201);
    }
    let r = api.call(
        "POST",
        "/v1/users",
        Some(&admin),
        Some(json!({"username": "user9", "password": "S3cure!pass"})),
    );
    r.expect_error(429, 1015);
    assert_eq!(r.details(), "Rate limiting exceeded on create user");
    let r = api.call(
        "PUT",
        "/v1/users/user0",
        Some(&admin),
        Some(json!({"password": "S3cure!pass2"})),
    );
    r.expect_error(429, 1015);
    assert_eq!(r.details(), "Rate limiting exceeded on update user");
    // Reads are not limited.
    api.call("GET", "/v1/users/user0", Some(&admin), None)
        .expect_status(200);
}

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
    let mut as_text = raw("POST", "/v1/messages", "{\"to\": \"1\"}", missing_to);
    as_text.content_type = Some("text/plain");
    vec![
        raw("POST", "/v1/messages", "[1, 2]", missing_to),
        raw("POST", "/v1/messages", "\"to\"", missing_to),
        raw("POST", "/v1/messages", "", missing_to),
        as_text,
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
