//! Clients behind a trusted load balancer that says who they are with `X-Forwarded-For`
//! (`WA_WEB_TRUSTED_PROXIES`): the per-IP login lockout keys on each client, and the header of a
//! peer that is not trusted changes nothing. The limits live in the process, not in the database,
//! so one backend shows the rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{basic, Reply, TestApp, ADMIN_PASSWORD};
use wa_store::Backend;

/// The in-process app's peer is 127.0.0.1, the balancer in these tests.
async fn app(trusted: &str) -> TestApp {
    TestApp::with(Backend::Sqlite, |settings| {
        settings.webapp.failed_logins_max = 3;
        settings.webapp.trusted_proxies = trusted.to_string();
    })
    .await
}

async fn login_from(app: &TestApp, forwarded_for: &str, password: &str) -> Reply {
    let request = app
        .request("POST", "/v1/users/login")
        .insert_header(("Authorization", basic("admin", password)))
        .insert_header(("X-Forwarded-For", forwarded_for));
    app.send(request).await
}

/// Wrong passwords from `client` until the lockout answers.
async fn lock_out(app: &TestApp, client: &str) {
    for _ in 0..3 {
        login_from(app, client, "wrong")
            .await
            .expect_error(401, 1005);
    }
    login_from(app, client, "wrong")
        .await
        .expect_error(429, 1015);
}

#[actix_web::test]
async fn clients_behind_a_trusted_proxy_are_locked_out_separately() {
    let app = app("127.0.0.1").await;
    app.first_login().await;
    lock_out(&app, "203.0.113.7").await;
    login_from(&app, "203.0.113.7", ADMIN_PASSWORD)
        .await
        .expect_error(429, 1015);
    // A colleague behind the same balancer still gets in, also through a second trusted hop.
    login_from(&app, "198.51.100.9", ADMIN_PASSWORD)
        .await
        .expect_status(200);
    login_from(&app, "198.51.100.10, 127.0.0.1", ADMIN_PASSWORD)
        .await
        .expect_status(200);
    // A client cannot escape its lockout by prepending an address of its own.
    login_from(&app, "198.51.100.9, 203.0.113.7", ADMIN_PASSWORD)
        .await
        .expect_error(429, 1015);
}

#[actix_web::test]
async fn an_untrusted_peer_cannot_choose_its_address() {
    let app = app("10.0.0.0/8").await;
    app.first_login().await;
    lock_out(&app, "203.0.113.7").await;
    // The peer (127.0.0.1) is not a trusted proxy: every header names the same client, itself.
    login_from(&app, "198.51.100.9", ADMIN_PASSWORD)
        .await
        .expect_error(429, 1015);
}
