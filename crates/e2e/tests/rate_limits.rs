//! The strict rate-limit preset as an integration sees it: a throttled burst is still sent
//! after the cooldowns (none failed, none lost; on every backend); repeated violations escalate
//! to throttling the whole account, which holds the messages back without failing them; a
//! user's marketing limit fails the extra marketing template with 131049.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{env, messaging_with, Messaging, BUSINESS_WA_ID, FAST_PHONES};
use e2e::Receiver;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use wa_store::testing::TestDb;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(90);
/// Five go, the sixth is throttled (light), the other three go after the cooldown.
const BURST: usize = 9;
/// Strict limits at 1/100 of real time: 5 a minute is 5 in 0.6 s, light throttling 3 s,
/// moderate 36 s, severe 14 to 43 minutes.
const STRICT_FAST: &[&str] = &["--rate-limits", "strict", "--time-scale", "0.01"];

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
    // At 1/50 of real time (5 in 1.2 s, light throttling 6 s), so that a coreapp on a busy
    // machine still sends the burst faster than the limit; with nine messages there is room
    // for one violation only.
    let mut args = FAST_PHONES.to_vec();
    args.extend(["--rate-limits", "strict", "--time-scale", "0.02"]);
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

fn limits(stack: &Messaging) -> Value {
    let (status, limits) = stack
        .wanet
        .get(&format!("/control/businesses/{BUSINESS_WA_ID}/limits"));
    assert_eq!(status, 200, "{limits}");
    limits
}

fn start_strict() -> (TestDb, Receiver, Messaging) {
    let (db, receiver, stack) =
        messaging_with(Backend::Sqlite, &[], &[FAST_PHONES, STRICT_FAST].concat());
    stack.register();
    (db, receiver, stack)
}

/// Escalates to a severe throttle (14 to 43 minutes at this scale), then lifts it through the
/// control API: the network tells the coreapp at once, which sends what it held without
/// waiting out its pause (as long as the throttle, up to an hour).
#[test]
fn repeated_violations_throttle_the_whole_account_until_a_lift() {
    let (_db, receiver, stack) = start_strict();
    let customer = "16315550101";
    stack.wanet.consumer_says(customer, "hi");
    for n in 0..20 {
        stack
            .send_text(customer, &format!("escalating {n}"))
            .expect_status(201);
    }
    // The levels the number goes through, as the network shows them.
    let mut seen: Vec<(Value, Value)> = Vec::new();
    let deadline = Instant::now() + WAIT;
    while seen.last().map(|(level, _)| level.clone()) != Some(json!("severe")) {
        assert!(Instant::now() < deadline, "no severe throttling: {seen:?}");
        let limits = limits(&stack);
        let level = (
            limits["throttling"].clone(),
            limits["throttling_scope"].clone(),
        );
        if !level.0.is_null() && seen.last() != Some(&level) {
            seen.push(level);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        seen,
        vec![
            (json!("light"), json!("number")),
            (json!("moderate"), json!("account")),
            (json!("severe"), json!("account")),
        ]
    );
    // Severe lasts 24 to 72 hours: 864 to 2,592 s at this scale.
    let left = limits(&stack)["cooldown_remaining_ms"].as_u64().unwrap();
    assert!((800_000..=2_592_000).contains(&left), "{left}");
    // The messages held back are neither sent nor failed: the coreapp keeps them pending and
    // waits out the cooldown instead of hammering the network.
    std::thread::sleep(Duration::from_secs(2));
    let sent = status_count(&receiver.delivered(), "sent");
    assert!((10..20).contains(&sent), "{sent}");
    let throttled = limits(&stack)["throttled"].as_u64().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let bodies = receiver.delivered();
    assert_eq!(status_count(&bodies, "sent"), sent);
    assert_eq!(status_count(&bodies, "failed"), 0);
    assert_eq!(limits(&stack)["throttled"].as_u64().unwrap(), throttled);

    let path = format!("/control/businesses/{BUSINESS_WA_ID}/limits");
    let (status, lifted) = stack.wanet.post(&path, json!({"lift_throttling": true}));
    assert_eq!(status, 200, "{lifted}");
    assert!(lifted["throttling"].is_null(), "{lifted}");
    // Far sooner than the severe throttle's end or the coreapp's hourly ask.
    let bodies = receiver.wait_until(WAIT, "every held message sent and delivered", |b| {
        status_count(b, "delivered") >= 20
    });
    assert_eq!(status_count(&bodies, "sent"), 20, "{bodies:?}");
    assert_eq!(status_count(&bodies, "failed"), 0, "{bodies:?}");
    assert!(
        stack.core.log().contains("sending resumes"),
        "the coreapp never heard of the lift:\n{}",
        stack.core.log()
    );
}

fn send_template(stack: &Messaging, to: &str, name: &str, code: &str) -> String {
    let message = json!({"to": to, "type": "template", "template": {
        "namespace": stack.template_namespace(), "name": name,
        "language": {"policy": "deterministic", "code": code}}});
    let r = stack
        .api()
        .call("POST", "/v1/messages", Some(&stack.admin), Some(message));
    r.expect_status(201);
    r.body["messages"][0]["id"].as_str().unwrap().to_string()
}

/// The final status of each message id and its error code.
fn outcomes(bodies: &[Value], ids: &[String]) -> Vec<(String, Option<i64>)> {
    ids.iter()
        .map(|id| {
            let statuses: Vec<&Value> = bodies
                .iter()
                .filter_map(|b| b["statuses"].as_array())
                .flatten()
                .filter(|s| s["id"] == id.as_str())
                .collect();
            let last = ["failed", "read", "delivered", "sent"]
                .into_iter()
                .find_map(|wanted| statuses.iter().find(|s| s["status"] == wanted))
                .map_or(Value::Null, |s| (*s).clone());
            (
                last["status"].as_str().unwrap_or("none").to_string(),
                last["errors"][0]["code"].as_i64(),
            )
        })
        .collect()
}

#[test]
fn a_user_gets_at_most_two_marketing_templates_a_day() {
    let (_db, receiver, stack) = start_strict();
    let (status, created) = stack.wanet.post(
        "/control/templates",
        json!({"namespace": stack.template_namespace(), "name": "weekly_deals", "language": "en",
               "category": "MARKETING", "components": [{"type": "BODY", "text": "This week's deals"}]}),
    );
    assert_eq!(status, 201, "{created}");
    let customer = "16315550102";
    let marketing: Vec<String> = (0..3)
        .map(|_| send_template(&stack, customer, "weekly_deals", "en"))
        .collect();
    // A utility template is not a marketing message.
    let utility = send_template(&stack, customer, "hello_world", "en_US");
    let all: Vec<String> = marketing.iter().chain([&utility]).cloned().collect();
    let done = |b: &[Value]| {
        outcomes(b, &all)
            .iter()
            .all(|(s, _)| s == "read" || s == "failed")
    };
    let bodies = receiver.wait_until(WAIT, "every template's outcome", done);
    let mut got = outcomes(&bodies, &marketing);
    got.sort();
    assert_eq!(
        got,
        vec![
            ("failed".to_string(), Some(131_049)),
            ("read".to_string(), None),
            ("read".to_string(), None),
        ]
    );
    assert_eq!(outcomes(&bodies, &[utility])[0].0, "read");
    let failed = bodies
        .iter()
        .filter_map(|b| b["statuses"].as_array())
        .flatten()
        .find(|s| s["status"] == "failed")
        .unwrap();
    let title = failed["errors"][0]["title"].as_str().unwrap();
    assert!(title.contains("healthy ecosystem engagement"), "{failed}");
    // Once the user writes, the business may answer with a marketing template.
    stack.wanet.consumer_says(customer, "tell me more");
    let answer = vec![send_template(&stack, customer, "weekly_deals", "en")];
    let bodies = receiver.wait_until(WAIT, "the answer read", |b| {
        outcomes(b, &answer)[0].0 == "read"
    });
    assert_eq!(outcomes(&bodies, &answer)[0].1, None);
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
