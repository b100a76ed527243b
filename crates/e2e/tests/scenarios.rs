//! The shipped scenarios (`scenarios/`, one per class of integration pitfall), each posted to
//! the simulator of a real stack and seen through the product's API and webhooks, as an
//! integration meets it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{
    env, launcher, messaging_with, Messaging, BUSINESS_WA_ID, DEMO_WA_ID, FAST_PHONES,
};
use e2e::webhooks::{has_status, status_codes, status_time};
use e2e::{Receiver, ADMIN_PASSWORD};
use serde_json::{json, Value};
use std::time::Duration;
use wa_store::testing::TestDb;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);

fn start_with(wanet_args: &[&str]) -> (TestDb, Receiver, Messaging) {
    let (db, receiver, stack) =
        messaging_with(Backend::Sqlite, &[], &[FAST_PHONES, wanet_args].concat());
    stack.register();
    (db, receiver, stack)
}

fn load(stack: &Messaging, file: &str) {
    let (status, body) = stack.wanet.post_scenario(file);
    assert_eq!(status, 201, "{file}: {body}");
}

fn send_text(stack: &Messaging, to: &str, body: &str) -> String {
    let r = stack.send_text(to, body);
    r.expect_status(201);
    r.body["messages"][0]["id"].as_str().unwrap().to_string()
}

fn send_template(stack: &Messaging, to: &str) -> String {
    let message = json!({"to": to, "type": "template", "template": {
        "namespace": stack.template_namespace(), "name": "hello_world",
        "language": {"policy": "deterministic", "code": "en_US"}}});
    let r = stack
        .api()
        .call("POST", "/v1/messages", Some(&stack.admin), Some(message));
    r.expect_status(201);
    r.body["messages"][0]["id"].as_str().unwrap().to_string()
}

fn inbound_bodies(bodies: &[Value]) -> Vec<String> {
    bodies
        .iter()
        .filter_map(|b| b["messages"].as_array())
        .flatten()
        .filter_map(|m| m["text"]["body"].as_str().map(String::from))
        .collect()
}

#[test]
fn cross_border_latency_delays_delivered_by_seconds() {
    let (_db, receiver, stack) = start_with(&[]);
    load(&stack, "cross-border-latency.toml");
    let (domestic, abroad) = ("16505550100", "447400900777");
    for phone in [domestic, abroad] {
        stack.wanet.consumer_says(phone, "hi");
    }
    let ids: Vec<String> = [domestic, abroad]
        .iter()
        .map(|phone| send_text(&stack, phone, "on its way"))
        .collect();
    let bodies = receiver.wait_until(WAIT, "both delivered", |b| {
        ids.iter().all(|id| has_status(b, id, "delivered"))
    });
    let gap = |id: &str| status_time(&bodies, id, "delivered") - status_time(&bodies, id, "sent");
    // Whole seconds: the 3 s lower bound may show as 2.
    assert!(gap(&ids[1]) >= 2, "+44 takes 3 to 15 s: {} s", gap(&ids[1]));
    assert!(gap(&ids[0]) <= 1, "no rule for +1 650: {} s", gap(&ids[0]));
}

fn shipped(name: &str) -> String {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(name);
    file.to_str().unwrap().to_string()
}

/// The ids among `ids` whose statuses include `status`.
fn with_status<'a>(bodies: &[Value], ids: &'a [String], status: &str) -> Vec<&'a String> {
    ids.iter()
        .filter(|id| has_status(bodies, id, status))
        .collect()
}

/// `throttling.toml` given to `wanet --scenario` before the number registered: its `[config]`
/// (the strict preset) is in force at once, its limits (a tier of 2) wait for the registration
/// and apply then; the product shows both, and a lift of the throttle sends what it held.
#[test]
fn the_throttling_scenario_given_at_start_applies_once_the_number_registers() {
    let db = TestDb::new(Backend::Sqlite);
    let receiver = Receiver::start();
    let scenario = shipped("throttling.toml");
    let mut args = FAST_PHONES.to_vec();
    args.extend(["--scenario", &scenario]);
    let stack = Messaging::start(
        &env(&[("ONPREM__DATABASE__URL", &db.url)]),
        &args,
        &receiver.url(),
    );
    let (_, config) = stack.wanet.get("/control/config");
    assert_eq!(config["rate_limits"], "strict", "{config}");
    let (_, waiting) = stack.wanet.get("/control/scenarios/waiting");
    assert_eq!(
        waiting["waiting"][0]["key"], "throttling/limits/0",
        "{waiting}"
    );
    stack.register();
    let (_, waiting) = stack.wanet.get("/control/scenarios/waiting");
    assert_eq!(waiting["waiting"], json!([]), "{waiting}");

    // The tier: two users a day. Which of the three templates goes over depends on the order
    // the coreapp sends them in.
    let templates: Vec<String> = ["16315550201", "16315550202", "16315550203"]
        .iter()
        .map(|user| send_template(&stack, user))
        .collect();
    let bodies = receiver.wait_until(WAIT, "two delivered, one failed", |b| {
        with_status(b, &templates, "delivered").len() == 2
            && with_status(b, &templates, "failed").len() == 1
    });
    let failed = with_status(&bodies, &templates, "failed")[0];
    assert_eq!(
        status_codes(&bodies, failed),
        vec![("failed".to_string(), Some(471))]
    );

    // The strict preset: 5 messages a minute, the two templates included. Of four answers to
    // a customer one goes over; the coreapp holds it (no status) for the 5-minute throttle.
    let customer = "16315550204";
    stack.wanet.consumer_says(customer, "hi");
    let answers: Vec<String> = (0..4)
        .map(|n| send_text(&stack, customer, &format!("answer {n}")))
        .collect();
    let bodies = receiver.wait_until(WAIT, "three answers delivered", |b| {
        with_status(b, &answers, "delivered").len() == 3
    });
    let limits_path = format!("/control/businesses/{BUSINESS_WA_ID}/limits");
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let (_, limits) = stack.wanet.get(&limits_path);
        if limits["throttling"] == "light" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no throttling: {limits}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let held: Vec<&String> = answers
        .iter()
        .filter(|id| status_codes(&bodies, id).is_empty())
        .collect();
    assert_eq!(held.len(), 1, "one answer held: {bodies:?}");
    let (status, lifted) = stack
        .wanet
        .post(&limits_path, json!({"lift_throttling": true}));
    assert_eq!(status, 200, "{lifted}");
    // Minutes before the throttle would have ended: only the lift's notice sends it now.
    let bodies = receiver.wait_until(WAIT, "the held answer delivered after the lift", |b| {
        has_status(b, held[0], "delivered")
    });
    assert!(
        with_status(&bodies, &answers, "failed").is_empty(),
        "{bodies:?}"
    );
}

#[test]
fn an_offline_phone_gets_its_message_when_it_comes_back() {
    let (_db, receiver, stack) = start_with(&[]);
    load(&stack, "offline-phones.toml");
    let id = send_template(&stack, "16315550301");
    // Off: `sent` only, until the scenario brings the phone back after 5 s.
    let bodies = receiver.wait_until(WAIT, "sent", |b| has_status(b, &id, "sent"));
    assert!(!has_status(&bodies, &id, "delivered"), "{bodies:?}");
    let bodies = receiver.wait_until(WAIT, "delivered once back", |b| {
        has_status(b, &id, "delivered")
    });
    let gap = status_time(&bodies, &id, "delivered") - status_time(&bodies, &id, "sent");
    assert!(gap >= 3, "the phone comes back after 5 s: {gap} s");
    // A number of the range that is off for good: `sent` and nothing more.
    let lost = send_template(&stack, "16315550399");
    let later = send_template(&stack, "16315550401");
    let bodies = receiver.wait_until(WAIT, "a served phone's delivery", |b| {
        has_status(b, &later, "delivered") && has_status(b, &lost, "sent")
    });
    assert_eq!(
        status_codes(&bodies, &lost),
        vec![("sent".to_string(), None)]
    );
}

#[test]
fn a_sanctioned_consumers_message_never_arrives() {
    let (_db, receiver, stack) = start_with(&[]);
    load(&stack, "sanctioned-regions.toml");
    let bodies = receiver.wait_until(WAIT, "the served consumer's message", |b| {
        inbound_bodies(b).contains(&"hello from a served region".to_string())
    });
    assert_eq!(
        inbound_bodies(&bodies),
        vec!["hello from a served region".to_string()]
    );
    // The sub-region rule inside +7: a template there stays `sent`.
    let lost = send_template(&stack, "79495512345");
    let reached = send_template(&stack, "16315550401");
    let bodies = receiver.wait_until(WAIT, "the served template delivered", |b| {
        has_status(b, &reached, "delivered") && has_status(b, &lost, "sent")
    });
    assert_eq!(
        status_codes(&bodies, &lost),
        vec![("sent".to_string(), None)]
    );
}

#[test]
fn sends_fail_with_1005_until_the_scenario_accepts_the_terms() {
    let (_db, receiver, stack) = start_with(&["--time-scale", "0.1"]);
    let customer = "16315550600";
    stack.wanet.consumer_says(customer, "hi");
    // The acceptance event plays after 60 s × 0.1 = 6 s.
    load(&stack, "terms-not-accepted.toml");
    let refused = send_text(&stack, customer, "before accepting");
    let bodies = receiver.wait_until(WAIT, "the refusal", |b| has_status(b, &refused, "failed"));
    assert_eq!(
        status_codes(&bodies, &refused),
        vec![("failed".to_string(), Some(1005))]
    );
    std::thread::sleep(Duration::from_secs(7));
    let accepted = send_text(&stack, customer, "after accepting");
    receiver.wait_until(WAIT, "delivered once accepted", |b| {
        has_status(b, &accepted, "delivered")
    });
}

#[test]
fn a_message_written_during_an_outage_arrives_after_it() {
    let (_db, receiver, stack) = start_with(&[]);
    load(&stack, "outage.toml");
    let bodies = receiver.wait_until(WAIT, "the message written during the outage", |b| {
        inbound_bodies(b).contains(&"written during the outage".to_string())
    });
    assert_eq!(inbound_bodies(&bodies).len(), 1, "{bodies:?}");
    let (_, outage) = stack.wanet.get("/control/outage");
    // The outage lasts 10 s from 2 s after loading; the message waited for its end.
    assert_eq!(outage["active"], false, "{outage}");
}

/// `terms-not-accepted.toml` given to `wa-dev` (`WANET_SCENARIO`) before any number registered:
/// the terms entry and the acceptance event wait, through a restart without the scenario, for
/// the registration; sends are then refused with 1005 until the event accepts the terms, 60 s
/// of network time after the registration.
#[test]
fn a_scenario_given_to_wa_dev_waits_for_the_registration_through_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let scenario = shipped("terms-not-accepted.toml");
    // The event plays 30 s after the registration.
    let scale = ("WANET_TIME_SCALE", "0.5");
    let mut stack = launcher(data.path(), &[("WANET_SCENARIO", &scenario), scale]);
    let (_, waiting) = stack.control("GET", "/control/scenarios/waiting", None);
    let keys: Vec<&Value> = waiting["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| &w["key"])
        .collect();
    assert_eq!(
        keys,
        [
            &json!("terms-not-accepted/terms/0"),
            &json!("terms-not-accepted/events/0")
        ],
        "{waiting}"
    );
    stack.service.interrupt(WAIT);

    let stack = launcher(data.path(), &[scale]);
    let admin = stack.client.first_login(ADMIN_PASSWORD);
    let receiver = Receiver::start();
    stack.client.set_webhook_url(&admin, &receiver.url());
    stack.register_demo_number(&admin);
    let (_, waiting) = stack.control("GET", "/control/scenarios/waiting", None);
    assert_eq!(waiting["waiting"], json!([]), "{waiting}");

    let customer = "16315550600";
    let said = json!({"type": "text", "text": {"body": "hi"}});
    let path = format!("/control/consumers/{customer}/messages");
    assert_eq!(stack.control("POST", &path, Some(said)).0, 201);
    let send = |body: &str| {
        let message = json!({"to": customer, "type": "text", "text": {"body": body}});
        let r = stack
            .client
            .call("POST", "/v1/messages", Some(&admin), Some(message));
        r.expect_status(201);
        r.body["messages"][0]["id"].as_str().unwrap().to_string()
    };
    let refused = send("before accepting");
    let bodies = receiver.wait_until(WAIT, "the refusal", |b| has_status(b, &refused, "failed"));
    assert_eq!(
        status_codes(&bodies, &refused),
        vec![("failed".to_string(), Some(1005))]
    );
    // The acceptance event, on the timeline that started at the registration.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let (_, business) =
            stack.control("GET", &format!("/control/businesses/{DEMO_WA_ID}"), None);
        if business["terms_accepted"] == true {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never accepted: {business}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let accepted = send("after accepting");
    receiver.wait_until(WAIT, "delivered once accepted", |b| {
        has_status(b, &accepted, "delivered")
    });
}
