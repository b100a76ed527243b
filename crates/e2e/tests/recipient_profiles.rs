//! Each recipient profile of wanet produces its documented status webhooks through the real
//! stack (wanet, coreapp, webapp as processes), and a forced network outage is recovered from
//! without losing a send; on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{env, Messaging, FAST_PHONES};
use e2e::webhooks::status_codes;
use e2e::Receiver;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;
use wa_store::testing::TestDb;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);

fn sent_id(stack: &Messaging, to: &str, body: &str) -> String {
    let r = stack.send_text(to, body);
    r.expect_status(201);
    r.body["messages"][0]["id"].as_str().unwrap().to_string()
}

fn owned(expected: &[(&str, Option<i64>)]) -> Vec<(String, Option<i64>)> {
    expected.iter().map(|(s, c)| (s.to_string(), *c)).collect()
}

/// A recipient, the profile set for it (none: a prefix rule decides) and its statuses.
type Case = (
    &'static str,
    Option<&'static str>,
    &'static [(&'static str, Option<i64>)],
);

fn every_profile_has_its_webhooks(db_env: HashMap<String, String>) {
    let receiver = Receiver::start();
    let stack = Messaging::start(&db_env, FAST_PHONES, &receiver.url());
    stack.register();
    let cases: &[Case] = &[
        (
            "16315550001",
            Some("normal"),
            &[("sent", None), ("delivered", None), ("read", None)],
        ),
        (
            "16315550002",
            Some("no_read_receipts"),
            &[("sent", None), ("delivered", None)],
        ),
        ("16315550003", Some("offline"), &[("sent", None)]),
        ("16315550004", Some("blocked_business"), &[("sent", None)]),
        (
            "16315550005",
            Some("old_app"),
            &[("sent", None), ("failed", Some(1026))],
        ),
        (
            "16315550006",
            Some("experiment"),
            &[("sent", None), ("failed", Some(472))],
        ),
        (
            "16315550007",
            Some("multi_device"),
            &[("sent", None), ("delivered", None), ("failed", Some(1026))],
        ),
        // Only templates with buttons are refused (templates.rs); a text goes as to anyone.
        (
            "16315550008",
            Some("no_template_buttons"),
            &[("sent", None), ("delivered", None), ("read", None)],
        ),
        // Sanctioned regions and Turkey by the default prefix rules: their users cannot write,
        // so no window opens and a text fails with 470 (templates stay `sent`: network_realism).
        (
            "963912345678",
            None,
            &[("sent", None), ("failed", Some(470))],
        ),
        (
            "905321234567",
            None,
            &[("sent", None), ("failed", Some(470))],
        ),
    ];
    let mut ids = Vec::new();
    for (wa_id, profile, _) in cases {
        if let Some(profile) = profile {
            let (status, body) = stack.wanet.post(
                "/control/consumers",
                json!({"wa_id": wa_id, "profile": profile}),
            );
            assert_eq!(status, 201, "{body}");
        }
        // An open window, so only the profile decides what happens.
        if profile.is_some() {
            stack.wanet.consumer_says(wa_id, "hi");
        }
        ids.push(sent_id(&stack, wa_id, "hello"));
    }
    let complete = |bodies: &[Value]| {
        cases
            .iter()
            .zip(&ids)
            .all(|((_, _, expected), id)| status_codes(bodies, id).len() >= expected.len())
    };
    receiver.wait_until(WAIT, "every profile's statuses", complete);
    // Time for any receipt that should not come (a read from the no-read phone, a delivery to
    // a blocked one) to show up.
    std::thread::sleep(Duration::from_millis(1_000));
    let bodies = receiver.delivered();
    for ((wa_id, profile, expected), id) in cases.iter().zip(&ids) {
        // Webhooks are posted concurrently, so their arrival order is not the statuses' order
        // (spec onprem-messaging §7.2); the set of statuses is what a profile decides.
        let (mut got, mut want) = (status_codes(&bodies, id), owned(expected));
        got.sort();
        want.sort();
        assert_eq!(got, want, "{wa_id} ({profile:?})");
    }
}

/// A forced outage: receipts for messages sent just before it come after it, sends while the
/// coreapp is disconnected are refused with 1011 (spec onprem-messaging §9.4) rather than lost,
/// and the coreapp reconnects by itself.
fn messages_survive_an_outage(db_env: HashMap<String, String>) {
    let receiver = Receiver::start();
    // Phones answer after 1.5 s, so the receipts fall inside the 2 s outage.
    let phones = ["--delivery-latency-ms", "1500", "--read-probability", "0"];
    let stack = Messaging::start(&db_env, &phones, &receiver.url());
    stack.register();
    stack.wanet.consumer_says("16315550100", "hi");
    let before: Vec<String> = (0..3)
        .map(|n| sent_id(&stack, "16315550100", &format!("before the outage {n}")))
        .collect();
    receiver.wait_until(WAIT, "sent before the outage", |bodies| {
        before
            .iter()
            .all(|id| status_codes(bodies, id).iter().any(|(s, _)| s == "sent"))
    });
    let (status, body) = stack.wanet.post("/control/outage", json!({"seconds": 2}));
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["dropped_sessions"], 1);
    let deadline = std::time::Instant::now() + WAIT;
    while stack.gateway_status() == "connected" {
        assert!(
            std::time::Instant::now() < deadline,
            "the coreapp never noticed the outage"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    stack
        .send_text("16315550100", "while disconnected")
        .expect_error(500, 1011);
    stack.wait_for_gateway("connected");
    let after = sent_id(&stack, "16315550100", "after the outage");
    receiver.wait_until(WAIT, "every message delivered", |bodies| {
        before.iter().chain([&after]).all(|id| {
            status_codes(bodies, id)
                .iter()
                .any(|(status, _)| status == "delivered")
        })
    });
    assert_eq!(stack.wanet.consumer("16315550100")["received_count"], 4);
}

fn run_on(backend: Backend, scenario: fn(HashMap<String, String>)) {
    let db = TestDb::new(backend);
    scenario(env(&[("ONPREM__DATABASE__URL", &db.url)]));
}

#[test]
fn profiles_on_sqlite() {
    run_on(Backend::Sqlite, every_profile_has_its_webhooks);
}

#[test]
fn profiles_on_mysql() {
    run_on(Backend::Mysql, every_profile_has_its_webhooks);
}

#[test]
fn profiles_on_postgres() {
    run_on(Backend::Postgres, every_profile_has_its_webhooks);
}

#[test]
fn outage_on_sqlite() {
    run_on(Backend::Sqlite, messages_survive_an_outage);
}

#[test]
fn outage_on_mysql() {
    run_on(Backend::Mysql, messages_survive_an_outage);
}

#[test]
fn outage_on_postgres() {
    run_on(Backend::Postgres, messages_survive_an_outage);
}
