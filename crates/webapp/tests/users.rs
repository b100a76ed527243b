//! The webapp's own users and login rules in process (moved from the end-to-end suite, where
//! each needed a whole stack): bad bodies, credentials, tokens, roles and the per-IP limits.
//! None of them reaches the coreapp.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine;
use common::{basic, TestApp, ADMIN_PASSWORD};
use serde_json::json;
use std::sync::atomic::Ordering;
use wa_store::Backend;

on_every_backend!(
    malformed_bodies_and_wrong_types,
    credentials_tokens_and_roles,
    expired_tokens_are_refused,
    user_management_is_rate_limited_per_ip,
    revocations_take_effect_on_every_webapp,
    a_token_written_after_a_password_change_is_refused,
    unknown_and_known_users_cost_one_verification_each,
);

async fn malformed_bodies_and_wrong_types(backend: Backend) {
    let app = TestApp::with(backend, |s| s.webapp.max_body_bytes = 4096).await;
    let admin = app.first_login().await;

    let r = app
        .json_post(&admin, "/v1/users", "{\"username\": \"jdoe\", ")
        .await;
    r.expect_error(400, 1025);
    assert_eq!(
        r.details(),
        "Unable to decode json from the request: Syntax error"
    );
    app.json_post(&admin, "/v1/users", "{}")
        .await
        .expect_error(400, 1008);
    let r = app
        .json_post(&admin, "/v1/users", "{\"username\": \"jdoe\"}")
        .await;
    r.expect_error(400, 1008);
    assert_eq!(r.details(), "Missing mandatory parameter 'password'");
    let r = app
        .json_post(
            &admin,
            "/v1/users",
            "{\"username\": 42, \"password\": \"S3cure!pass\"}",
        )
        .await;
    r.expect_error(400, 1009);
    assert_eq!(r.details(), "Parameter 'username' has invalid value '42'");
    app.json_post(
        &admin,
        "/v1/users",
        "{\"username\": \"jdoe\", \"password\": [\"S3cure!pass\"]}",
    )
    .await
    .expect_error(400, 1009);
    // A JSON value that is not an object is an empty parameter set, as in the original.
    app.json_post(&admin, "/v1/users", "[1, 2, 3]")
        .await
        .expect_error(400, 1008);
    app.json_post(&admin, "/v1/users", "\"just a string\"")
        .await
        .expect_error(400, 1008);

    let r = app
        .json_post(
            &admin,
            "/v1/users",
            "{\"username\": \"j d\", \"password\": \"S3cure!pass\"}",
        )
        .await;
    r.expect_error(400, 1009);
    assert_eq!(r.details(), "Username contains prohibited characters");
    let r = app
        .json_post(
            &admin,
            "/v1/users",
            "{\"username\": \"ab\", \"password\": \"S3cure!pass\"}",
        )
        .await;
    assert_eq!(r.details(), "Username doesn't meet length requirements");
    let r = app
        .json_post(
            &admin,
            "/v1/users",
            "{\"username\": \"jdoe\", \"password\": \"short\"}",
        )
        .await;
    r.expect_error(400, 1009);
    assert!(r
        .details()
        .starts_with("Password doesn't meet complexity requirements"));

    // Oversize body: refused while streaming, with a JSON error.
    let huge = format!("{{\"username\": \"{}\"}}", "x".repeat(10_000));
    let r = app
        .send(
            app.request("POST", "/v1/users")
                .insert_header(("Authorization", admin.as_str()))
                .insert_header(("Content-Type", "application/json"))
                .set_payload(huge),
        )
        .await;
    r.expect_error(400, 1009);
    assert!(r.details().contains("too large"), "{}", r.details());

    // Login bodies are parsed too.
    let r = app
        .send(
            app.request("POST", "/v1/users/login")
                .insert_header(("Authorization", basic("admin", ADMIN_PASSWORD)))
                .insert_header(("Content-Type", "application/json"))
                .set_payload("{not json"),
        )
        .await;
    r.expect_error(400, 1025);
    app.login(
        "admin",
        ADMIN_PASSWORD,
        Some(json!({"new_password": 12345})),
    )
    .await
    .expect_error(400, 1009);

    // Duplicates: 409/1004 rather than the original's 500 (see docs/compatibility.md).
    app.call(
        "POST",
        "/v1/users",
        Some(&admin),
        Some(json!({"username": "jdoe", "password": "S3cure!pass"})),
    )
    .await
    .expect_status(201);
    app.call(
        "POST",
        "/v1/users",
        Some(&admin),
        Some(json!({"username": "jdoe", "password": "S3cure!pass"})),
    )
    .await
    .expect_error(409, 1004);
    // Trailing slash is the same route.
    app.call(
        "POST",
        "/v1/users/",
        Some(&admin),
        Some(json!({"username": "jdoe2", "password": "S3cure!pass"})),
    )
    .await
    .expect_status(201);

    // Unknown ids and paths.
    app.call("GET", "/v1/users/nobody", Some(&admin), None)
        .await
        .expect_error(404, 1006);
    app.call(
        "PUT",
        "/v1/users/nobody",
        Some(&admin),
        Some(json!({"password": "S3cure!pass"})),
    )
    .await
    .expect_error(404, 1006);
    app.call("DELETE", "/v1/users/nobody", Some(&admin), None)
        .await
        .expect_error(404, 1006);
    app.call("GET", "/v2/anything", None, None)
        .await
        .expect_error(404, 1006);
    // A known path with a method it does not route.
    app.call("GET", "/v1/users/login", None, None)
        .await
        .expect_error(405, 1014);
}

async fn credentials_tokens_and_roles(backend: Backend) {
    let app = TestApp::on(backend).await;
    let admin = app.first_login().await;

    // Broken Authorization headers on login: 401 with the Basic challenge, never 500.
    for header in [
        "Basic",
        "Basic !!!notbase64",
        "Basic bm9jb2xvbg==",
        "Digest abc",
        "",
        "Bearer",
    ] {
        let r = app
            .call("POST", "/v1/users/login", Some(header), None)
            .await;
        r.expect_error(401, 1005);
    }
    let r = app.send(app.request("POST", "/v1/users/login")).await;
    r.expect_error(401, 1005);
    assert!(r.headers.contains_key("www-authenticate"));
    app.login("admin", "wrong", None)
        .await
        .expect_error(401, 1005);
    app.login("nobody", "wrong", None)
        .await
        .expect_error(401, 1005);
    // Basic credentials are refused on other endpoints.
    app.call(
        "GET",
        "/v1/users/admin",
        Some(&basic("admin", ADMIN_PASSWORD)),
        None,
    )
    .await
    .expect_error(401, 1005);
    // No credentials at all.
    app.call("GET", "/v1/health", None, None)
        .await
        .expect_error(401, 1005);
    app.call("POST", "/v1/users/logout", None, None)
        .await
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
        app.call(
            "GET",
            "/v1/users/admin",
            Some(&format!("Bearer {forged}")),
            None,
        )
        .await
        .expect_error(401, 1005);
    }

    // Roles: a regular user may not create, delete, or touch others.
    app.call(
        "POST",
        "/v1/users",
        Some(&admin),
        Some(json!({"username": "alice", "password": "Al1ce!pass"})),
    )
    .await
    .expect_status(201);
    app.call(
        "POST",
        "/v1/users",
        Some(&admin),
        Some(json!({"username": "bob.b", "password": "B0b!passwd"})),
    )
    .await
    .expect_status(201);
    let alice = app.bearer("alice", "Al1ce!pass").await;
    let bob = app.bearer("bob.b", "B0b!passwd").await;
    let r = app
        .call(
            "POST",
            "/v1/users",
            Some(&alice),
            Some(json!({"username": "eve1", "password": "Ev3!passwd"})),
        )
        .await;
    r.expect_error(403, 1005);
    assert_eq!(r.details(), "User doesn't have permission");
    app.call("DELETE", "/v1/users/bob.b", Some(&alice), None)
        .await
        .expect_error(403, 1005);
    let r = app
        .call(
            "PUT",
            "/v1/users/bob.b",
            Some(&alice),
            Some(json!({"password": "N3w!passwd"})),
        )
        .await;
    r.expect_error(403, 1005);
    assert_eq!(r.details(), "Regular user cannot modify other user");
    // A user changes its own password: every token it had is revoked, the caller's own
    // included (docs/compatibility.md); the new password logs in.
    app.call(
        "PUT",
        "/v1/users/alice",
        Some(&alice),
        Some(json!({"password": "N3w!passwd"})),
    )
    .await
    .expect_status(200);
    app.call("GET", "/v1/users/alice", Some(&alice), None)
        .await
        .expect_error(401, 1005);
    app.login("alice", "Al1ce!pass", None)
        .await
        .expect_error(401, 1005);
    let alice = app.bearer("alice", "N3w!passwd").await;
    app.call("GET", "/v1/users/alice", Some(&alice), None)
        .await
        .expect_status(200);
    // The admin changes someone else's password.
    app.call(
        "PUT",
        "/v1/users/bob.b",
        Some(&admin),
        Some(json!({"password": "Adm1n!set"})),
    )
    .await
    .expect_status(200);
    app.bearer("bob.b", "Adm1n!set").await;
    // Deleting a user revokes every token it had.
    let r = app
        .call("DELETE", "/v1/users/bob.b", Some(&admin), None)
        .await;
    r.expect_status(200);
    assert_eq!(r.body["users"][0]["username"], "bob.b");
    app.call("GET", "/v1/users/bob.b", Some(&bob), None)
        .await
        .expect_error(401, 1005);
    app.call("GET", "/v1/users/bob.b", Some(&admin), None)
        .await
        .expect_error(404, 1006);
    // The reserved API-key user name cannot be taken.
    let r = app
        .call(
            "POST",
            "/v1/users",
            Some(&admin),
            Some(json!({"username": "__apikey__", "password": "Ap1!keyuser"})),
        )
        .await;
    r.expect_error(400, 1009);
    assert_eq!(r.details(), "Invalid Username");
}

/// Expiry is in whole seconds: a 1 s token issued late in a second was already expired at the
/// first call on a loaded machine, so the token lives 3 s (at least 2 s of it usable).
async fn expired_tokens_are_refused(backend: Backend) {
    let app = TestApp::with(backend, |s| s.webapp.token_lifetime_secs = 3).await;
    app.first_login().await;
    let token = app.bearer("admin", ADMIN_PASSWORD).await;
    app.call("GET", "/v1/users/admin", Some(&token), None)
        .await
        .expect_status(200);
    tokio::time::sleep(std::time::Duration::from_millis(4100)).await;
    app.call("GET", "/v1/users/admin", Some(&token), None)
        .await
        .expect_error(401, 1005);
}

async fn user_management_is_rate_limited_per_ip(backend: Backend) {
    let app = TestApp::with(backend, |s| s.webapp.user_changes_max = 3).await;
    let admin = app.first_login().await;
    for i in 0..3 {
        let body = json!({"username": format!("user{i}"), "password": "S3cure!pass"});
        app.call("POST", "/v1/users", Some(&admin), Some(body))
            .await
            .expect_status(201);
    }
    let r = app
        .call(
            "POST",
            "/v1/users",
            Some(&admin),
            Some(json!({"username": "user9", "password": "S3cure!pass"})),
        )
        .await;
    r.expect_error(429, 1015);
    assert_eq!(r.details(), "Rate limiting exceeded on create user");
    let r = app
        .call(
            "PUT",
            "/v1/users/user0",
            Some(&admin),
            Some(json!({"password": "S3cure!pass2"})),
        )
        .await;
    r.expect_error(429, 1015);
    assert_eq!(r.details(), "Rate limiting exceeded on update user");
    // Reads are not limited.
    app.call("GET", "/v1/users/user0", Some(&admin), None)
        .await
        .expect_status(200);
}

/// Two webapps on one database, as behind a load balancer: a logout, a password change (by the
/// user or the admin) and a deletion on one shut the token out of that webapp at once and out of
/// the other within `webapp::token_cache::TOKEN_RECHECK`.
async fn revocations_take_effect_on_every_webapp(backend: Backend) {
    let one = TestApp::on(backend).await;
    let admin = one.first_login().await;
    let two = one.beside().await;
    let body = json!({"username": "alice", "password": "Al1ce!pass"});
    one.call("POST", "/v1/users", Some(&admin), Some(body))
        .await
        .expect_status(201);
    let on_one = one.bearer("alice", "Al1ce!pass").await;
    let on_two = two.bearer("alice", "Al1ce!pass").await;
    for token in [&on_one, &on_two] {
        get(&one, token).await.expect_status(200);
        get(&two, token).await.expect_status(200);
    }

    // A logout on one webapp revokes that token on the other, and only that token.
    two.call("POST", "/v1/users/logout", Some(&on_one), None)
        .await
        .expect_status(200);
    get(&two, &on_one).await.expect_error(401, 1005);
    refused_soon(&one, &on_one).await;
    get(&one, &on_two).await.expect_status(200);

    // The admin's reset on one webapp: the token from the other is refused by both.
    let reset = json!({"password": "Adm1n!set"});
    one.call("PUT", "/v1/users/alice", Some(&admin), Some(reset))
        .await
        .expect_status(200);
    get(&one, &on_two).await.expect_error(401, 1005);
    refused_soon(&two, &on_two).await;
    // The user's own change on the second webapp does the same to a token from the first.
    let after_reset = one.bearer("alice", "Adm1n!set").await;
    let own = json!({"password": "N3w!passwd"});
    two.call("PUT", "/v1/users/alice", Some(&after_reset), Some(own))
        .await
        .expect_status(200);
    get(&two, &after_reset).await.expect_error(401, 1005);
    refused_soon(&one, &after_reset).await;
    two.login("alice", "Adm1n!set", None)
        .await
        .expect_error(401, 1005);

    // Deleted on the second webapp: the first refuses the token, even once the name is taken
    // again by a new user.
    let last = one.bearer("alice", "N3w!passwd").await;
    two.call("DELETE", "/v1/users/alice", Some(&admin), None)
        .await
        .expect_status(200);
    refused_soon(&one, &last).await;
    let again = json!({"username": "alice", "password": "N3w!passwd"});
    two.call("POST", "/v1/users", Some(&admin), Some(again))
        .await
        .expect_status(201);
    get(&one, &last).await.expect_error(401, 1005);
    // The admin's own token was never touched.
    get(&one, &admin).await.expect_status(200);
}

/// A login checks the password, then writes its token: a password change committed in between
/// must not leave that token valid (it is bound to the user row the login checked).
async fn a_token_written_after_a_password_change_is_refused(backend: Backend) {
    let app = TestApp::on(backend).await;
    let admin = app.first_login().await;
    let body = json!({"username": "alice", "password": "Al1ce!pass"});
    app.call("POST", "/v1/users", Some(&admin), Some(body))
        .await
        .expect_status(201);
    let store = &app.state().store;
    // The login read the user and verified the old password ...
    let checked = store.find_user("alice").await.unwrap().unwrap();
    // ... the admin resets the password meanwhile ...
    let reset = json!({"password": "Adm1n!set"});
    app.call("PUT", "/v1/users/alice", Some(&admin), Some(reset))
        .await
        .expect_status(200);
    // ... and then the login stores its token.
    let issued = webapp::auth::issue_token(app.state(), &checked)
        .await
        .unwrap();
    let late = format!("Bearer {}", issued.token);
    app.call("GET", "/v1/users/alice", Some(&late), None)
        .await
        .expect_error(401, 1005);
    // A token issued under the current password works.
    let current = store.find_user("alice").await.unwrap().unwrap();
    let issued = webapp::auth::issue_token(app.state(), &current)
        .await
        .unwrap();
    let fresh = format!("Bearer {}", issued.token);
    app.call("GET", "/v1/users/alice", Some(&fresh), None)
        .await
        .expect_status(200);
}

/// Every login that names a user runs exactly one bcrypt verification, at the configured cost,
/// whether the user exists or not; so the answer takes as long either way.
async fn unknown_and_known_users_cost_one_verification_each(backend: Backend) {
    let app = TestApp::on(backend).await;
    app.first_login().await;
    let checks = || app.state().password_checks.load(Ordering::Relaxed);
    for (user, password) in [
        ("nobody", "wrong"),
        ("admin", "wrong"),
        ("admin", ADMIN_PASSWORD),
        ("nobody", ADMIN_PASSWORD),
    ] {
        let before = checks();
        let reply = app.login(user, password, None).await;
        assert_eq!(checks() - before, 1, "{user}/{password}: {}", reply.body);
    }
    // Credentials that name nobody are refused before any verification.
    let before = checks();
    app.call("POST", "/v1/users/login", Some("Basic !!!"), None)
        .await
        .expect_error(401, 1005);
    assert_eq!(checks(), before);
    // The stand-in hash has the real ones' algorithm and cost (the tests' 4).
    let admin = app.state().store.find_user("admin").await.unwrap().unwrap();
    let cost = |hash: &str| hash.split('$').nth(2).map(str::to_owned);
    assert_eq!(
        cost(app.state().unknown_user_hash()),
        Some("04".to_string())
    );
    assert_eq!(
        cost(app.state().unknown_user_hash()),
        cost(&admin.password_hash)
    );
}

/// `GET /v1/users/alice` with `token` on `app`.
async fn get(app: &TestApp, token: &str) -> common::Reply {
    app.call("GET", "/v1/users/alice", Some(token), None).await
}

/// `token` is refused by `app` within the time a webapp trusts a token it checked
/// (`TOKEN_RECHECK`, with a wide margin for a slow machine).
async fn refused_soon(app: &TestApp, token: &str) {
    let deadline = std::time::Instant::now() + webapp::token_cache::TOKEN_RECHECK * 20;
    loop {
        let reply = get(app, token).await;
        if reply.status == 401 || std::time::Instant::now() > deadline {
            reply.expect_error(401, 1005);
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
