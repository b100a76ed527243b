//! Long-lived bearer tokens in process: an administrator creates one (answered once), lists
//! them without the secret and revokes one; the token works on On-Prem and Cloud paths with its
//! role's rights, across a restart and on another webapp; revoked, it answers 401 (On-Prem) and
//! 190 (Cloud), at once here and soon on the other webapp; bad input is never a 500.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Reply, TestApp};
use serde_json::{json, Value};
use wa_api::cloud::ids;
use wa_store::{Backend, Registration};

on_every_backend!(
    tokens_are_created_listed_and_revoked,
    a_user_role_token_cannot_call_admin_paths,
    bad_input_is_refused_never_500,
    revocation_reaches_the_other_webapp,
);

const PATH: &str = "/v1/settings/cloud/tokens";
const NUMBER: &str = "16315551019";

async fn registered(app: &TestApp) {
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
}

/// Creates a token and returns `Bearer <token>` and its id.
async fn create(app: &TestApp, admin: &str, name: &str, role: &str) -> (String, String) {
    let reply = app
        .call(
            "POST",
            PATH,
            Some(admin),
            Some(json!({"name": name, "role": role})),
        )
        .await;
    reply.expect_status(201);
    let created = &reply.body["tokens"][0];
    assert_eq!(created["name"], name);
    assert_eq!(created["role"], role);
    assert!(created["created_timestamp"].as_i64().unwrap() > 0);
    assert!(reply.body["meta"]["version"].is_string(), "{}", reply.body);
    let token = created["token"].as_str().unwrap();
    assert!(token.starts_with("walt_"), "{token}");
    (
        format!("Bearer {token}"),
        created["id"].as_str().unwrap().to_string(),
    )
}

fn phone_numbers_path() -> String {
    format!("/v21.0/{}/phone_numbers", ids::waba_id(NUMBER))
}

#[track_caller]
fn expect_190(reply: &Reply) {
    assert_eq!(
        (reply.status, reply.body["error"]["code"].as_u64()),
        (401, Some(190)),
        "{}",
        reply.body
    );
}

async fn tokens_are_created_listed_and_revoked(backend: Backend) {
    let app = TestApp::on(backend).await;
    registered(&app).await;
    let admin = app.first_login().await;
    let (crm, crm_id) = create(&app, &admin, "CRM", "ROLE_USER").await;
    let (ops, ops_id) = create(&app, &admin, "Ops robot", "ROLE_ADMIN").await;

    // Listed (oldest first, then by id: both were made in the same second), never with the
    // secret.
    let reply = app.call("GET", PATH, Some(&admin), None).await;
    reply.expect_status(200);
    let listed = reply.body["tokens"].as_array().unwrap();
    let mut ids: Vec<&Value> = listed.iter().map(|t| &t["id"]).collect();
    ids.sort_by_key(|id| id.to_string());
    let mut expected = [&json!(crm_id), &json!(ops_id)];
    expected.sort_by_key(|id| id.to_string());
    assert_eq!(ids, expected);
    assert!(
        listed.iter().all(|t| t.get("token").is_none()),
        "{listed:?}"
    );
    let ops_listed = listed.iter().find(|t| t["id"] == json!(ops_id)).unwrap();
    assert_eq!(ops_listed["role"], "ROLE_ADMIN");
    assert_eq!(ops_listed["name"], "Ops robot");
    // Nor is the secret stored: only its hash.
    let stored = app.state().store.system_tokens().await.unwrap();
    let secret = crm.trim_start_matches("Bearer ");
    assert!(stored.iter().all(|t| !t.token_hash.contains(secret)));

    // The tokens work on On-Prem and Cloud paths; the admin one on admin paths, and it can
    // manage tokens itself.
    let reply = app
        .call("GET", &phone_numbers_path(), Some(&crm), None)
        .await;
    reply.expect_status(200);
    assert_eq!(reply.body["data"][0]["id"], ids::phone_number_id(NUMBER));
    app.call("GET", PATH, Some(&ops), None)
        .await
        .expect_status(200);
    app.call("GET", "/v1/users/admin", Some(&ops), None)
        .await
        .expect_status(200);

    // A restart: a new webapp on the same database honours them.
    let restarted = app.beside().await;
    restarted
        .call("GET", &phone_numbers_path(), Some(&crm), None)
        .await
        .expect_status(200);

    // Logging out with a long-lived token does not revoke it.
    app.call("POST", "/v1/users/logout", Some(&crm), None)
        .await
        .expect_error(400, 1025);
    app.call("GET", &phone_numbers_path(), Some(&crm), None)
        .await
        .expect_status(200);

    // Revoked: refused at once on this webapp, in each API's envelope.
    app.call("DELETE", &format!("{PATH}/{crm_id}"), Some(&admin), None)
        .await
        .expect_status(200);
    expect_190(
        &app.call("GET", &phone_numbers_path(), Some(&crm), None)
            .await,
    );
    app.call("GET", "/v1/users/admin", Some(&crm), None)
        .await
        .expect_error(401, 1005);
    app.call("DELETE", &format!("{PATH}/{crm_id}"), Some(&admin), None)
        .await
        .expect_error(404, 1006);
    let reply = app.call("GET", PATH, Some(&admin), None).await;
    assert_eq!(reply.body["tokens"].as_array().unwrap().len(), 1);

    // User tokens keep their own rules: a password change revokes the admin's login token,
    // not the long-lived ones.
    let reset = json!({"password": "N3w!Admin-pass"});
    app.call("PUT", "/v1/users/admin", Some(&admin), Some(reset))
        .await
        .expect_status(200);
    app.call("GET", PATH, Some(&admin), None)
        .await
        .expect_error(401, 1005);
    app.call("GET", PATH, Some(&ops), None)
        .await
        .expect_status(200);
    // A token that looks long-lived but was never created, or was cut short.
    let forged = format!("Bearer walt_{}", "A".repeat(43));
    app.call("GET", PATH, Some(&forged), None)
        .await
        .expect_error(401, 1005);
    expect_190(
        &app.call("GET", &phone_numbers_path(), Some("Bearer walt_"), None)
            .await,
    );
}

async fn a_user_role_token_cannot_call_admin_paths(backend: Backend) {
    let app = TestApp::on(backend).await;
    let admin = app.first_login().await;
    let (user, _) = create(&app, &admin, "reader", "ROLE_USER").await;
    app.call("GET", PATH, Some(&user), None)
        .await
        .expect_error(403, 1005);
    let body = json!({"name": "escalate", "role": "ROLE_ADMIN"});
    app.call("POST", PATH, Some(&user), Some(body))
        .await
        .expect_error(403, 1005);
    let body = json!({"username": "mallory", "password": "M4llory!pass"});
    app.call("POST", "/v1/users", Some(&user), Some(body))
        .await
        .expect_error(403, 1005);
    app.call("GET", "/v1/users/admin", Some(&user), None)
        .await
        .expect_error(403, 1005);
    app.call("GET", "/v1/settings/cloud", Some(&user), None)
        .await
        .expect_error(403, 1005);
}

async fn bad_input_is_refused_never_500(backend: Backend) {
    let app = TestApp::on(backend).await;
    let admin = app.first_login().await;
    let long = "n".repeat(65);
    let cases: [(&str, u16, u64); 9] = [
        ("{\"name\": \"x\", ", 400, 1025),
        ("{}", 400, 1008),
        ("{\"role\": \"ROLE_USER\"}", 400, 1008),
        ("{\"name\": \"x\"}", 400, 1008),
        ("{\"name\": \"x\", \"role\": \"ROLE_ROOT\"}", 400, 1009),
        ("{\"name\": \"x\", \"role\": 1}", 400, 1009),
        ("{\"name\": \"   \", \"role\": \"ROLE_USER\"}", 400, 1009),
        (
            "{\"name\": \"a\\u0007b\", \"role\": \"ROLE_USER\"}",
            400,
            1009,
        ),
        ("[1, 2]", 400, 1008),
    ];
    for (body, status, code) in cases {
        let reply = app.json_post(&admin, PATH, body).await;
        assert_eq!(
            (reply.status, reply.code()),
            (status, code),
            "{body}: {}",
            reply.body
        );
    }
    let over_long = format!("{{\"name\": \"{long}\", \"role\": \"ROLE_USER\"}}");
    app.json_post(&admin, PATH, over_long)
        .await
        .expect_error(400, 1009);
    // 64 characters, not bytes, is the limit.
    let wide = format!(
        "{{\"name\": \"{}\", \"role\": \"ROLE_USER\"}}",
        "é".repeat(64)
    );
    app.json_post(&admin, PATH, wide).await.expect_status(201);
    app.call("DELETE", &format!("{PATH}/no-such-id"), Some(&admin), None)
        .await
        .expect_error(404, 1006);
    app.call("PUT", PATH, Some(&admin), None)
        .await
        .expect_error(405, 1014);
    app.call("GET", PATH, None, None)
        .await
        .expect_error(401, 1005);
    assert!(app.state().store.system_tokens().await.unwrap().len() == 1);
}

async fn revocation_reaches_the_other_webapp(backend: Backend) {
    let one = TestApp::on(backend).await;
    let admin = one.first_login().await;
    let two = one.beside().await;
    let (token, id) = create(&one, &admin, "CRM", "ROLE_ADMIN").await;
    two.call("GET", PATH, Some(&token), None)
        .await
        .expect_status(200);
    one.call("DELETE", &format!("{PATH}/{id}"), Some(&admin), None)
        .await
        .expect_status(200);
    one.call("GET", PATH, Some(&token), None)
        .await
        .expect_error(401, 1005);
    // The other webapp trusted it a moment ago; within TOKEN_RECHECK it refuses it too.
    let deadline = std::time::Instant::now() + webapp::token_cache::TOKEN_RECHECK * 20;
    loop {
        let reply = two.call("GET", PATH, Some(&token), None).await;
        if reply.status == 401 || std::time::Instant::now() > deadline {
            reply.expect_error(401, 1005);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
