//! The network's state survives a restart (design.md §5): on a data folder (SQLite) and on a
//! MariaDB or PostgreSQL database URL. Credentials, the offline store, windows, the dedupe of
//! accepted ids, phones' received messages, limits and certificates all come back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{test_config, Net, BUSINESS, CONSUMER, WAIT};
use serde_json::json;
use wa_netproto::{Push, Request, Response};
use wa_store::testing::TestDb;
use wa_store::Backend;
use wanet::WanetConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_survives_a_restart_on_a_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let config = WanetConfig {
        data_dir: Some(dir.path().to_path_buf()),
        ..test_config()
    };
    state_survives_a_restart(config).await;
    assert!(dir.path().join("wanet.sqlite").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_survives_a_restart_on_mariadb() {
    let db = TestDb::new(Backend::Mysql);
    state_survives_a_restart(on_url(&db)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_survives_a_restart_on_postgresql() {
    let db = TestDb::new(Backend::Postgres);
    state_survives_a_restart(on_url(&db)).await;
}

fn on_url(db: &TestDb) -> WanetConfig {
    WanetConfig {
        database_url: Some(db.url.clone()),
        ..test_config()
    }
}

/// Polls until the phone of `wa_id` has `count` messages (the deadline is a failure guard).
async fn wait_received(net: &Net, wa_id: &str, count: u64) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let consumer = net.consumer(wa_id).await;
        if consumer["received_count"] == count {
            return consumer;
        }
        assert!(tokio::time::Instant::now() < deadline, "{consumer}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn state_survives_a_restart(config: WanetConfig) {
    let net = Net::start_with(config.clone()).await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    net.consumer_says(CONSUMER, "open the window").await;
    session.next_push_acked().await;
    let sent = session.send_text("gBGGbefore", CONSUMER, "hi").await;
    assert!(matches!(
        sent,
        Ok(Response::Accepted {
            duplicate: false,
            ..
        })
    ));
    wait_received(&net, CONSUMER, 1).await;
    drop(session);
    let limits = json!({ "upgraded": true, "tier": 10000, "account": "acme" });
    let (status, _) = net
        .post(&format!("/control/businesses/{BUSINESS}/limits"), limits)
        .await;
    assert_eq!(status, 200);
    let waiting = net.consumer_says(CONSUMER, "while you were away").await;
    let cert = net.mint_cert("Later Inc").await;
    net.wanet.handle().stop().await;

    let net = Net::start_with(config).await;
    let mut session = net.connect().await;
    let welcome = session.hello(Some(credentials.clone())).await;
    assert!(
        matches!(
            welcome,
            Ok(Response::Welcome {
                business: Some(_),
                ..
            })
        ),
        "{welcome:?}"
    );
    let backlog = session.drain_backlog().await;
    assert!(
        backlog
            .iter()
            .any(|p| matches!(p, Push::Inbound { id, .. } if *id == waiting)),
        "the offline store lost the consumer's message: {backlog:?}"
    );
    // The accepted id is still known: a coreapp's re-send after the restart is a duplicate.
    let again = session.send_text("gBGGbefore", CONSUMER, "hi").await;
    assert!(
        matches!(
            again,
            Ok(Response::Accepted {
                duplicate: true,
                ..
            })
        ),
        "{again:?}"
    );
    // The window is still open: a free-form message reaches the phone.
    session
        .send_text("gBGGafter", CONSUMER, "still here")
        .await
        .unwrap();
    let consumer = wait_received(&net, CONSUMER, 2).await;
    assert_eq!(consumer["received"][0]["id"], "gBGGbefore");
    let (_, limits) = net
        .get(&format!("/control/businesses/{BUSINESS}/limits"))
        .await;
    assert_eq!(limits["upgraded"], true, "{limits}");
    assert_eq!(limits["tier"], 10000, "{limits}");
    assert_eq!(limits["account"], "acme", "{limits}");
    // A certificate minted before the restart still registers a number.
    let mut anonymous = net.connect().await;
    anonymous.hello(None).await.unwrap();
    let code_sent = anonymous
        .request(Request::RequestCode {
            cc: "44".into(),
            phone_number: "7400900555".into(),
            method: "sms".into(),
            cert,
            pin: None,
        })
        .await;
    assert!(
        matches!(code_sent, Ok(Response::CodeSent { .. })),
        "{code_sent:?}"
    );
    net.wanet.handle().stop().await;
}
