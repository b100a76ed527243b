//! Sends at 300 per second with every status flowing back: the database must not deadlock and no
//! message may reach the network twice (issue 17, point 6).
//!
//! Several clients send 3,000 texts to 20 recipients on a paced schedule (a third of them with an
//! `Idempotency-Key`) while consumers write to the business, wanet accepts every send and the
//! phones answer `delivered` and `read` within milliseconds, so the send path (the message
//! insert, keyed or not, `sent`) and the status path (receipts with their webhooks,
//! conversations, inbound messages, webhook deletes) all run at once. Then:
//! the database server counted no deadlock (MariaDB's `Innodb_deadlocks`, PostgreSQL's
//! `pg_stat_database.deadlocks` of the test database), wanet saw no send twice (its
//! `duplicate_sends` counter, and each phone's list of received messages), and every message has
//! its `sent`, `delivered` and `read` webhook exactly once.
//!
//! In a file of its own: MariaDB's counter is the whole server's, so no other test of this binary
//! may run beside it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{env, Messaging, BUSINESS_WA_ID, FAST_PHONES};
use e2e::webhooks::inbound_ids;
use e2e::{Client, Receiver};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wa_store::testing::TestDb;
use wa_store::Backend;

/// Messages sent: at 100/s, 8 deadlocks were seen in a run of a few thousand.
const MESSAGES: usize = 3_000;
/// The schedule's rate (sends per second); a slow build may reach less, which is printed.
const TARGET_RATE: f64 = 300.0;
/// Concurrent API clients, each with its own connections.
const CLIENTS: usize = 12;
/// Recipients the sends go round; each has its conversation row and its window.
const RECIPIENTS: usize = 20;
/// Inbound messages the consumers write during the run (with their webhooks).
const INBOUND: usize = 600;
/// Every so many sends carries an `Idempotency-Key`.
const IDEMPOTENT_EVERY: usize = 3;
/// The statuses every message must reach, each with its webhook.
const STATUSES: [&str; 3] = ["sent", "delivered", "read"];

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + timeout;
    loop {
        match done() {
            Ok(()) => return,
            Err(state) if Instant::now() >= deadline => {
                panic!("timed out waiting for {what}: {state}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(250)),
        }
    }
}

fn recipients() -> Vec<String> {
    (0..RECIPIENTS)
        .map(|i| format!("1631556{:04}", 1000 + i))
        .collect()
}

/// wanet accepts every send (no throughput limit), phones answer within milliseconds.
fn wanet_args() -> Vec<&'static str> {
    let mut args = FAST_PHONES.to_vec();
    args.extend_from_slice(&["--rate-limits", "off"]);
    args
}

/// A registered stack on `db_url`, the request rate limit off (the test sends above the default
/// 50/s), every recipient's 24-hour window open.
fn stack_on(db_url: &str) -> (Receiver, Messaging) {
    let receiver = Receiver::start();
    let vars = env(&[
        ("ONPREM__DATABASE__URL", db_url),
        ("ONPREM__WEBAPP__MESSAGES_RATE_PER_SEC", "0"),
    ]);
    let stack = Messaging::start(&vars, &wanet_args(), &receiver.url());
    stack.register();
    let ids: Vec<String> = recipients()
        .iter()
        .map(|p| stack.wanet.consumer_says(p, "hi"))
        .collect();
    receiver.wait_until(Duration::from_secs(60), "the windows' messages", |bodies| {
        ids.iter()
            .all(|id| bodies.iter().any(|b| b["messages"][0]["id"] == id.as_str()))
    });
    (receiver, stack)
}

/// What the clients got back: the accepted ids, and any other answer.
#[derive(Default)]
struct Sent {
    ids: Vec<String>,
    refused: Vec<(u16, Value)>,
}

/// Sends `MESSAGES` texts from `CLIENTS` threads, message `i` due at `i / TARGET_RATE` seconds
/// after the start (a client that falls behind sends at once). Returns what came back and how
/// long it took.
fn send_paced(stack: &Messaging) -> (Sent, Duration) {
    let sent = Arc::new(Mutex::new(Sent::default()));
    let phones = Arc::new(recipients());
    let run = uuid::Uuid::new_v4().simple().to_string();
    let start = Instant::now() + Duration::from_millis(200);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client_index| {
            let (sent, phones) = (sent.clone(), phones.clone());
            let client = Client::new(stack.web.port);
            let admin = stack.admin.clone();
            let run = run.clone();
            std::thread::spawn(move || {
                for i in (client_index..MESSAGES).step_by(CLIENTS) {
                    let due = start + Duration::from_secs_f64(i as f64 / TARGET_RATE);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let to = &phones[i % phones.len()];
                    let body =
                        json!({"to": to, "type": "text", "text": {"body": format!("paced {i}")}});
                    let mut request = client
                        .request("POST", "/v1/messages")
                        .header("Authorization", &admin)
                        .json(&body);
                    if i % IDEMPOTENT_EVERY == 0 {
                        // Keyed sends take the other insert path (the key and the message in
                        // one transaction).
                        request = request.header("Idempotency-Key", format!("{run}-{i}"));
                    }
                    let reply = client.send(request);
                    let mut sent = sent.lock().unwrap();
                    match reply.body["messages"][0]["id"].as_str() {
                        Some(id) if reply.status == 201 => sent.ids.push(id.to_string()),
                        _ => sent.refused.push((reply.status, reply.body)),
                    }
                }
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    let took = start.elapsed();
    let sent = std::mem::take(&mut *sent.lock().unwrap());
    (sent, took)
}

/// How many status webhooks each (message, status) got.
fn status_webhooks(receiver: &Receiver) -> HashMap<(String, String), usize> {
    let mut counts = HashMap::new();
    for body in receiver.delivered() {
        for status in body["statuses"].as_array().into_iter().flatten() {
            let key = (
                status["id"].as_str().unwrap_or("").to_string(),
                status["status"].as_str().unwrap_or("").to_string(),
            );
            *counts.entry(key).or_insert(0) += 1;
        }
    }
    counts
}

fn business(stack: &Messaging) -> Value {
    stack
        .wanet
        .get(&format!("/control/businesses/{BUSINESS_WA_ID}"))
        .1
}

fn no_deadlock_and_no_repeat(db: &TestDb) {
    let (receiver, mut stack) = stack_on(&db.url);
    let deadlocks_before = wa_store::admin::deadlocks(&db.url).unwrap();
    let duplicates_before = business(&stack)["duplicate_sends"].as_u64();

    // Consumers write while the business sends: inbound messages and their webhooks share the
    // tables and the commit queue with the statuses.
    let inbound = {
        let wanet_port = stack.wanet.control_port;
        std::thread::spawn(move || {
            let http = reqwest::blocking::Client::new();
            let mut ids = HashSet::new();
            for (n, phone) in recipients().iter().cycle().take(INBOUND).enumerate() {
                let body = json!({"type": "text", "text": {"body": format!("inbound {n}")}});
                let url =
                    format!("http://127.0.0.1:{wanet_port}/control/consumers/{phone}/messages");
                let reply: Value = http.post(url).json(&body).send().unwrap().json().unwrap();
                ids.insert(reply["id"].as_str().unwrap().to_string());
                std::thread::sleep(Duration::from_millis(10));
            }
            ids
        })
    };
    let (sent, took) = send_paced(&stack);
    let inbound_sent = inbound.join().unwrap();
    eprintln!(
        "{} sends in {:.1} s: {:.0} sends/s (target {TARGET_RATE})",
        sent.ids.len() + sent.refused.len(),
        took.as_secs_f64(),
        (sent.ids.len() + sent.refused.len()) as f64 / took.as_secs_f64()
    );
    assert!(
        sent.refused.is_empty(),
        "{} sends refused, first: {:?}",
        sent.refused.len(),
        sent.refused.first()
    );
    assert_eq!(sent.ids.len(), MESSAGES);

    // Every message reaches its final status with each webhook, and every inbound message its.
    wait_for(
        "every status webhook and inbound webhook",
        Duration::from_secs(600),
        || {
            let webhooks = status_webhooks(&receiver);
            let missing = sent
                .ids
                .iter()
                .flat_map(|id| STATUSES.iter().map(move |s| (id.clone(), s.to_string())))
                .filter(|key| !webhooks.contains_key(key))
                .count();
            let inbound_missing = inbound_sent
                .difference(&inbound_ids(&receiver.delivered()))
                .count();
            if missing == 0 && inbound_missing == 0 {
                Ok(())
            } else {
                Err(format!(
                    "{missing} status webhooks and {inbound_missing} inbound webhooks missing"
                ))
            }
        },
    );

    // Nothing reached the network twice: wanet counted no re-send, and each phone got each
    // message once.
    let business = business(&stack);
    assert_eq!(
        business["duplicate_sends"].as_u64(),
        duplicates_before,
        "wanet received sends again: {business}"
    );
    assert_eq!(
        business["accepted_messages"].as_u64(),
        Some(MESSAGES as u64),
        "{business}"
    );
    let received = stack.wanet.received_ids(&recipients());
    let unique: HashSet<&String> = received.iter().collect();
    assert_eq!(
        unique.len(),
        received.len(),
        "a message reached a phone twice"
    );
    let accepted: HashSet<&String> = sent.ids.iter().collect();
    assert_eq!(
        unique, accepted,
        "the phones' messages are not the ones sent"
    );

    // Nothing recorded twice: each status webhook came once (a webhook whose delete was rolled
    // back, or a status recorded again, would come twice).
    let repeated: Vec<_> = status_webhooks(&receiver)
        .into_iter()
        .filter(|(_, count)| *count > 1)
        .collect();
    assert!(
        repeated.is_empty(),
        "{} status webhooks came more than once, e.g. {:?}",
        repeated.len(),
        repeated.first()
    );

    // The stack stops first: PostgreSQL adds a connection's counts to its statistics at the
    // latest when the connection ends.
    let core_log = stack.core.log();
    stack.core.kill();
    stack.web.service.kill();
    let deadlocks_after = read_deadlocks_settled(&db.url, deadlocks_before);
    // MariaDB's counter is the whole server's: the latest deadlock's description names the
    // database, so a failure shows whether this run's (`db.url`) was involved.
    assert_eq!(
        deadlocks_after,
        deadlocks_before,
        "the database counted deadlocks during the run on {}; the latest one:\n{}",
        db.url,
        wa_store::admin::latest_deadlock(&db.url)
            .unwrap()
            .unwrap_or_default()
    );
    assert!(
        !core_log.contains("Deadlock found") && !core_log.contains("deadlock detected"),
        "the coreapp met a deadlock:\n{}",
        core_log
            .lines()
            .filter(|l| l.contains("eadlock"))
            .take(5)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The deadlock counter once the stopped processes' statistics are in: PostgreSQL writes a
/// backend's counts when it exits, so the reading is repeated until it stays the same for a
/// few seconds (MariaDB counts at once; SQLite has no counter).
fn read_deadlocks_settled(url: &str, before: Option<i64>) -> Option<i64> {
    let mut last = wa_store::admin::deadlocks(url).unwrap();
    let mut stable_since = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(30);
    while stable_since.elapsed() < Duration::from_secs(3) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        let now = wa_store::admin::deadlocks(url).unwrap();
        if now != last {
            last = now;
            stable_since = Instant::now();
        }
    }
    eprintln!("deadlocks counted: before {before:?}, after {last:?}");
    last
}

mod no_deadlock_and_no_repeat {
    use super::*;

    #[test]
    fn mysql() {
        super::no_deadlock_and_no_repeat(&TestDb::new(Backend::Mysql))
    }

    #[test]
    fn postgres() {
        super::no_deadlock_and_no_repeat(&TestDb::new(Backend::Postgres))
    }

    #[test]
    fn sqlite() {
        super::no_deadlock_and_no_repeat(&TestDb::new(Backend::Sqlite))
    }
}
