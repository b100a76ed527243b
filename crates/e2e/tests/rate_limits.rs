//! The strict rate-limit preset throttles a burst, and the coreapp still sends every message
//! after the cooldowns (none failed, none lost); on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{env, Messaging, BUSINESS_WA_ID, FAST_PHONES};
use e2e::Receiver;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use wa_store::testing::TestDb;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(90);
const BURST: usize = 14;

fn status_count(bodies: &[Value], status: &str) -> usize {
    bodies
        .iter()
        .filter_map(|b| b["statuses"].as_array())
        .flatten()
        .filter(|s| s["status"] == status)
        .count()
}

fn a_throttled_burst_is_sent_after_the_cooldowns(db_env: HashMap<String, String>) {
    let receiver = Receiver::start();
    // Strict: 5 a minute, light/moderate cooldowns of 1 and 5 minutes; at 1/100 of real time
    // that is 0.6 s, 0.6 s and 3 s.
    let mut args = FAST_PHONES.to_vec();
    args.extend(["--rate-limits", "strict", "--time-scale", "0.01"]);
    let stack = Messaging::start(&db_env, &args, &receiver.url());
    stack.register();
    stack.wanet.consumer_says("16315550100", "hi");
    for n in 0..BURST {
        stack
            .send_text("16315550100", &format!("burst {n}"))
            .expect_status(201);
    }
    let bodies = receiver.wait_until(WAIT, "every message of the burst delivered", |b| {
        status_count(b, "delivered") >= BURST
    });
    assert_eq!(
        status_count(&bodies, "failed"),
        0,
        "throttling must not fail a message"
    );
    assert_eq!(status_count(&bodies, "sent"), BURST);
    let (status, limits) = stack
        .wanet
        .get(&format!("/control/businesses/{BUSINESS_WA_ID}/limits"));
    assert_eq!(status, 200);
    assert!(limits["throttled"].as_u64().unwrap() > 0, "{limits}");
    assert_eq!(stack.wanet.consumer("16315550100")["received_count"], BURST);
}

fn run_on(backend: Backend) {
    let db = TestDb::new(backend);
    a_throttled_burst_is_sent_after_the_cooldowns(env(&[("ONPREM__DATABASE__URL", &db.url)]));
}

#[test]
fn strict_burst_on_sqlite() {
    run_on(Backend::Sqlite);
}

#[test]
fn strict_burst_on_mysql() {
    run_on(Backend::Mysql);
}

#[test]
fn strict_burst_on_postgres() {
    run_on(Backend::Postgres);
}
