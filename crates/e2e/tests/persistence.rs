//! Users, tokens and the generated certificate live in the database (design.md §3, invariant 4):
//! they survive a restart, and a second webapp on the same database accepts the first one's tokens
//! and serves the same certificate. Run on each backend with separate coreapp and webapp processes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{coreapp, env, webapp};
use e2e::ADMIN_PASSWORD;
use serde_json::json;
use std::collections::HashMap;
use wa_store::testing::TestDb;
use wa_store::Backend;

fn restart_and_second_webapp(db_env: HashMap<String, String>) {
    let (_core, core_port) = coreapp(&db_env);
    let mut first = webapp(&db_env, core_port);
    let admin = first.client.first_login(ADMIN_PASSWORD);
    let api = &first.client;
    api.call(
        "POST",
        "/v1/users",
        Some(&admin),
        Some(json!({"username": "ops", "password": "0ps!Secret"})),
    )
    .expect_status(201);
    let ops = api.bearer("ops", "0ps!Secret");
    let cert = api
        .call("GET", "/v1/health", Some(&admin), None)
        .peer_certificate
        .unwrap();

    // Restart the webapp: tokens, users and the certificate are all still there.
    first.service.kill();
    let first = webapp(&db_env, core_port);
    let api = &first.client;
    let r = api.call("GET", "/v1/users/ops", Some(&ops), None);
    r.expect_status(200);
    assert_eq!(
        r.peer_certificate.as_deref(),
        Some(cert.as_slice()),
        "certificate changed on restart"
    );
    api.call("GET", "/v1/health", Some(&admin), None)
        .expect_status(200);
    // The admin password set before the restart is still the one that works.
    api.login("admin", "secret", None).expect_error(401, 1005);
    api.bearer("admin", ADMIN_PASSWORD);

    // A second webapp on the same database: same certificate, accepts the first one's tokens,
    // and revocations on one are seen by the other.
    let second = webapp(&db_env, core_port);
    let r = second.client.call("GET", "/v1/users/ops", Some(&ops), None);
    r.expect_status(200);
    assert_eq!(
        r.peer_certificate.as_deref(),
        Some(cert.as_slice()),
        "second webapp serves another certificate"
    );
    let r = second.client.call("GET", "/v1/health", Some(&admin), None);
    r.expect_status(200);
    assert_eq!(r.body["health"]["gateway_status"], "unregistered");
    second
        .client
        .call("POST", "/v1/users/logout", Some(&ops), None)
        .expect_status(200);
    // The other webapp trusts a token it checked for up to a second (webapp::token_cache):
    // the revocation reaches it within that bound.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let r = first.client.call("GET", "/v1/users/ops", Some(&ops), None);
        if r.status == 401 || std::time::Instant::now() > deadline {
            r.expect_error(401, 1005);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let ops_again = first.client.bearer("ops", "0ps!Secret");
    first
        .client
        .call("DELETE", "/v1/users/ops", Some(&admin), None)
        .expect_status(200);
    second
        .client
        .call("GET", "/v1/users/ops", Some(&ops_again), None)
        .expect_error(401, 1005);
}

/// MySQL through the On-Prem variables of `db.env`, exactly as the compose files set them.
#[test]
fn mysql_with_onprem_db_env() {
    let db = TestDb::new(Backend::Mysql);
    let url = url::Url::parse(&db.url).unwrap();
    let name = url.path().trim_start_matches('/');
    // TestDb's random name, split into WA_DB_NAME_PREFIX + name, so the stack uses (and TestDb
    // drops) exactly that database.
    let split = name.rfind('_').map_or(0, |i| i + 1);
    let (prefix, rest) = name.split_at(split);
    let vars = env(&[
        ("WA_DB_ENGINE", "MYSQL"),
        ("WA_DB_HOSTNAME", url.host_str().unwrap()),
        ("WA_DB_PORT", &url.port().unwrap_or(3306).to_string()),
        ("WA_DB_USERNAME", url.username()),
        ("WA_DB_PASSWORD", url.password().unwrap_or("")),
        ("WA_DB_NAME_PREFIX", prefix),
        ("ONPREM__DATABASE__NAME", rest),
        ("WA_DB_CONNECTION_IDLE_TIMEOUT", "180000"),
    ]);
    restart_and_second_webapp(vars);
}

#[test]
fn postgres_with_database_url() {
    let db = TestDb::new(Backend::Postgres);
    restart_and_second_webapp(env(&[("ONPREM__DATABASE__URL", &db.url)]));
}

#[test]
fn sqlite_with_database_url() {
    let db = TestDb::new(Backend::Sqlite);
    restart_and_second_webapp(env(&[("ONPREM__DATABASE__URL", &db.url)]));
}
