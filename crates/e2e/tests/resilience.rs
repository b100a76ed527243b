//! The delivery guarantees of design.md §3 under breakage: the coreapp killed mid-burst, the
//! webhook receiver failing and down, sends during the offline drain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{env, Messaging, BUSINESS_WA_ID, FAST_PHONES};
use e2e::webhooks::inbound_ids;
use e2e::Receiver;
use serde_json::json;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wa_store::testing::TestDb;
use wa_store::{Backend, Store};

fn store_of(url: &str) -> (tokio::runtime::Runtime, Store) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime
        .block_on(Store::connect(&wa_store::StoreConfig::new(
            url,
            wa_store::testing::test_sealer(),
        )))
        .unwrap();
    (runtime, store)
}

fn inbound_count(runtime: &tokio::runtime::Runtime, store: &Store) -> i64 {
    let counts = runtime.block_on(store.message_counts()).unwrap();
    counts
        .iter()
        .filter(|(outbound, _, _)| !outbound)
        .map(|(_, _, n)| n)
        .sum()
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn consumers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("1631555{:04}", 1000 + i)).collect()
}

/// Every consumer writes once, opening its 24-hour window.
fn open_windows(stack: &Messaging, receiver: &Receiver, phones: &[String]) {
    let ids: Vec<String> = phones
        .iter()
        .map(|p| stack.wanet.consumer_says(p, "hi"))
        .collect();
    receiver.wait_until(
        Duration::from_secs(60),
        "the window-opening messages",
        |bodies| {
            ids.iter()
                .all(|id| bodies.iter().any(|b| b["messages"][0]["id"] == id.as_str()))
        },
    );
}

/// A registered stack on `db_url` with its webhook receiver and `customers` customers whose
/// 24-hour windows are open.
fn registered_stack(db_url: &str, customers: usize) -> (Receiver, Messaging, Vec<String>) {
    let receiver = Receiver::start();
    let stack = Messaging::start(
        &env(&[("ONPREM__DATABASE__URL", db_url)]),
        FAST_PHONES,
        &receiver.url(),
    );
    stack.register();
    let phones = consumers(customers);
    open_windows(&stack, &receiver, &phones);
    (receiver, stack, phones)
}

fn delivered_statuses(receiver: &Receiver) -> HashSet<(String, String)> {
    receiver
        .delivered()
        .iter()
        .filter_map(|b| b["statuses"].as_array())
        .flatten()
        .map(|s| {
            (
                s["id"].as_str().unwrap_or("").to_string(),
                s["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Invariants 1–3: a coreapp killed with SIGKILL in the middle of 1,000 sends and 1,000 inbound
/// messages loses nothing and sends nothing twice.
fn crash_mid_burst(db_url: &str) {
    let (receiver, mut stack, phones) = registered_stack(db_url, 10);

    let accepted: Arc<Mutex<Vec<String>>> = Arc::default();
    let progress = Arc::new(AtomicUsize::new(0));
    let sender = {
        let (accepted, progress, phones) = (accepted.clone(), progress.clone(), phones.clone());
        let client = e2e::Client::new(stack.web.port);
        let admin = stack.admin.clone();
        std::thread::spawn(move || {
            for i in 0..1000 {
                let body =
                    json!({"to": phones[i % phones.len()], "text": {"body": format!("burst {i}")}});
                let deadline = Instant::now() + Duration::from_secs(120);
                loop {
                    let r = client.call("POST", "/v1/messages", Some(&admin), Some(body.clone()));
                    if r.status == 201 {
                        accepted
                            .lock()
                            .unwrap()
                            .push(r.body["messages"][0]["id"].as_str().unwrap().to_string());
                        break;
                    }
                    // While the coreapp is down or initializing: 1014 or 1011; above the
                    // request rate limit: 1015. Try again, as a client should.
                    assert!(
                        [1011, 1014, 1015].contains(&r.code()),
                        "unexpected answer {:?}",
                        r.body
                    );
                    assert!(Instant::now() < deadline, "sends never recovered");
                    std::thread::sleep(Duration::from_millis(20));
                }
                progress.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let burst_ids = stack.wanet.consumer_bursts(&phones[0], 1000, "inbound");
    assert_eq!(burst_ids.len(), 1000);

    wait_for("300 sends", Duration::from_secs(120), || {
        progress.load(Ordering::SeqCst) >= 300
    });
    stack.restart_coreapp();
    sender.join().unwrap();

    let accepted: Vec<String> = accepted.lock().unwrap().clone();
    assert_eq!(accepted.len(), 1000);
    // Invariant 1: each accepted message reached a phone exactly once. (A send whose answer was
    // lost in the crash may also have been stored and delivered; the client saw no 201 for it.)
    let mut received: Vec<String> = Vec::new();
    wait_for(
        "every accepted message on a phone",
        Duration::from_secs(180),
        || {
            received = phones
                .iter()
                .flat_map(|p| {
                    stack.wanet.consumer(p)["received"]
                        .as_array()
                        .unwrap()
                        .clone()
                })
                .filter_map(|m| m["id"].as_str().map(str::to_string))
                .collect();
            let got: HashSet<&String> = received.iter().collect();
            accepted.iter().all(|id| got.contains(id))
        },
    );
    let unique: HashSet<&String> = received.iter().collect();
    assert_eq!(
        unique.len(),
        received.len(),
        "a message reached a phone twice"
    );
    assert!(
        received.len() - accepted.len() <= 5,
        "{} messages without a 201",
        received.len() - accepted.len()
    );

    // Invariant 2: every inbound message is stored once (with its webhook, in the same transaction).
    let (runtime, store) = store_of(db_url);
    wait_for(
        "1,010 stored inbound messages",
        Duration::from_secs(180),
        || inbound_count(&runtime, &store) >= 1010,
    );
    assert_eq!(inbound_count(&runtime, &store), 1010);

    // Invariant 3: every webhook reached the receiver at least once.
    wait_for("every inbound webhook", Duration::from_secs(180), || {
        burst_ids.is_subset(&inbound_ids(&receiver.delivered()))
    });
    wait_for(
        "sent, delivered and read for every message",
        Duration::from_secs(180),
        || {
            let statuses = delivered_statuses(&receiver);
            accepted.iter().all(|id| {
                ["sent", "delivered", "read"]
                    .iter()
                    .all(|s| statuses.contains(&(id.clone(), s.to_string())))
            })
        },
    );
    let business = stack
        .wanet
        .get(&format!("/control/businesses/{BUSINESS_WA_ID}"))
        .1;
    assert_eq!(
        business["accepted_messages"].as_u64(),
        Some(received.len() as u64),
        "{business}"
    );
}

/// Invariant 3: the receiver answers 500, then refuses connections, then comes back; every event
/// arrives, attempts are spaced by the back-off, and sending and receiving go on meanwhile.
fn receiver_outage(db_url: &str) {
    let (receiver, stack, phones) = registered_stack(db_url, 1);

    receiver.answer_with(500);
    let mut sent = Vec::new();
    let mut inbound = Vec::new();
    for i in 0..5 {
        let r = stack.send_text(&phones[0], &format!("during 500 #{i}"));
        r.expect_status(201);
        sent.push(r.body["messages"][0]["id"].as_str().unwrap().to_string());
        inbound.push(stack.wanet.consumer_says(&phones[0], &format!("reply {i}")));
    }
    wait_for("failed attempts", Duration::from_secs(60), || {
        receiver
            .attempts()
            .iter()
            .filter(|a| a.answered == 500)
            .count()
            >= 20
    });
    receiver.stop();
    for i in 0..5 {
        let r = stack.send_text(&phones[0], &format!("while down #{i}"));
        r.expect_status(201);
        sent.push(r.body["messages"][0]["id"].as_str().unwrap().to_string());
        inbound.push(
            stack
                .wanet
                .consumer_says(&phones[0], &format!("down reply {i}")),
        );
    }
    // Work goes on while the receiver is away: the phone gets every message.
    wait_for("messages on the phone", Duration::from_secs(60), || {
        stack.wanet.consumer(&phones[0])["received_count"]
            .as_u64()
            .unwrap()
            >= 10
    });
    std::thread::sleep(Duration::from_secs(2));
    receiver.answer_with(200);
    receiver.resume();

    wait_for(
        "every event after the outage",
        Duration::from_secs(120),
        || {
            let statuses = delivered_statuses(&receiver);
            let got_inbound = inbound_ids(&receiver.delivered());
            inbound.iter().all(|id| got_inbound.contains(id))
                && sent.iter().all(|id| {
                    ["sent", "delivered", "read"]
                        .iter()
                        .all(|s| statuses.contains(&(id.clone(), s.to_string())))
                })
        },
    );

    // The first inbound message's attempts: never closer than the first back-off (200 ms), and
    // still coming at about the cap (1 s) rather than giving up. (The doubling itself is checked
    // against exact settings in the coreapp's dispatcher tests; here other tests share the CPU.)
    let attempts: Vec<Instant> = receiver
        .attempts()
        .iter()
        .filter(|a| a.body["messages"][0]["id"] == inbound[0].as_str())
        .map(|a| a.at)
        .collect();
    assert!(attempts.len() >= 3, "only {} attempts", attempts.len());
    let gaps: Vec<Duration> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().all(|g| *g >= Duration::from_millis(150)),
        "gaps {gaps:?}"
    );
    assert!(
        gaps.iter().all(|g| *g <= Duration::from_secs(30)),
        "gaps {gaps:?}"
    );
}

/// While the offline backlog drains, sends answer 1011; the first send that succeeds comes after
/// the whole backlog is stored.
fn sends_wait_for_the_offline_drain(db_url: &str) {
    let (_receiver, mut stack, phones) = registered_stack(db_url, 1);

    stack.core.kill();
    let (status, _) = stack.wanet.post(
        &format!("/control/consumers/{}/burst", phones[0]),
        json!({"count": 1500}),
    );
    assert_eq!(status, 201);
    stack.restart_coreapp();
    let mut not_ready = 0;
    let first_ok = loop {
        let r = stack.send_text(&phones[0], "after restart");
        if r.status == 201 {
            break r;
        }
        if r.code() == 1015 {
            // This loop outpaces the request rate limit when the drain is slow (a loaded CI
            // machine); the limit's answer is not what is tested here, so back off and go on.
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        assert_eq!(r.code(), 1011, "unexpected answer {:?}", r.body);
        not_ready += 1;
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(
        not_ready > 0,
        "no send was refused while the backlog drained"
    );
    assert_eq!(first_ok.status, 201);
    let (runtime, store) = store_of(db_url);
    assert!(
        inbound_count(&runtime, &store) >= 1501,
        "a send was accepted before the backlog was stored"
    );
    assert!(stack.core.log().contains("offline backlog drained"));
}

macro_rules! on_every_backend {
    ($($test:ident),+) => {$(
        mod $test {
            use super::*;
            #[test]
            fn sqlite() { let db = TestDb::new(Backend::Sqlite); super::$test(&db.url) }
            #[test]
            fn mysql() { let db = TestDb::new(Backend::Mysql); super::$test(&db.url) }
            #[test]
            fn postgres() { let db = TestDb::new(Backend::Postgres); super::$test(&db.url) }
        }
    )+};
}

on_every_backend!(
    crash_mid_burst,
    receiver_outage,
    sends_wait_for_the_offline_drain
);
