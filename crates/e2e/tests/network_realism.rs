//! What an integration sees of the simulated network's realism cases (issue 16, point 3),
//! through the product's API and webhooks: numbers outside the numbering plans, and the
//! offline store of phones that are off, latency, sanctioned regions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{messaging_with, Messaging, FAST_PHONES};
use e2e::webhooks::{has_status, status_codes, status_time};
use e2e::Receiver;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wa_store::testing::TestDb;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);

fn start() -> (TestDb, Receiver, Messaging) {
    start_with(FAST_PHONES)
}

fn start_with(wanet_args: &[&str]) -> (TestDb, Receiver, Messaging) {
    let (db, receiver, stack) = messaging_with(Backend::Sqlite, &[], wanet_args);
    stack.register();
    (db, receiver, stack)
}

fn sent_id(stack: &Messaging, to: &str, body: &str) -> String {
    let r = stack.send_text(to, body);
    r.expect_status(201);
    r.body["messages"][0]["id"].as_str().unwrap().to_string()
}

fn set_profile(stack: &Messaging, wa_id: &str, profile: &str) {
    let body = json!({ "wa_id": wa_id, "profile": profile });
    let (status, reply) = stack.wanet.post("/control/consumers", body);
    assert_eq!(status, 201, "{reply}");
}

/// Polls the network's view of a consumer until `done` holds.
fn wait_consumer(stack: &Messaging, wa_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let consumer = stack.wanet.consumer(wa_id);
        if done(&consumer) {
            return consumer;
        }
        assert!(Instant::now() < deadline, "{consumer}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_number_without_its_country_code_is_invalid_and_a_send_to_it_fails_with_1013() {
    let (_db, receiver, stack) = start();
    let contacts = json!({"blocking": "wait", "contacts": ["+1 631-555-0400", "6315550400"]});
    let r = stack
        .api()
        .call("POST", "/v1/contacts", Some(&stack.admin), Some(contacts));
    r.expect_status(200);
    assert_eq!(
        r.body["contacts"],
        json!([
            {"input": "+1 631-555-0400", "status": "valid", "wa_id": "16315550400"},
            {"input": "6315550400", "status": "invalid"},
        ]),
        "{:?}",
        r.body
    );
    // The coreapp takes the send (it is a well-formed number); the network fails it.
    let id = sent_id(&stack, "6315550400", "Your order shipped");
    let bodies = receiver.wait_until(WAIT, "the failed status", |b| has_status(b, &id, "failed"));
    assert_eq!(
        status_codes(&bodies, &id),
        vec![
            ("failed".to_string(), Some(1013)),
            ("sent".to_string(), None)
        ]
    );
}

#[test]
fn a_phone_off_gets_its_messages_when_back_and_loses_them_after_30_days() {
    let (_db, receiver, stack) = start();
    // Off, then back: `sent` at once, `delivered` only once the phone is back.
    let phone = "16315550401";
    stack.wanet.consumer_says(phone, "hi");
    set_profile(&stack, phone, "offline");
    let id = sent_id(&stack, phone, "while you were away");
    wait_consumer(&stack, phone, |c| c["held"] == json!([id]));
    let bodies = receiver.wait_until(WAIT, "sent", |b| has_status(b, &id, "sent"));
    assert_eq!(status_codes(&bodies, &id), vec![("sent".to_string(), None)]);
    set_profile(&stack, phone, "normal");
    receiver.wait_until(WAIT, "delivered and read once back", |b| {
        has_status(b, &id, "delivered") && has_status(b, &id, "read")
    });

    // Off for more than 30 days of network time (30 days × 0.000001 ≈ 2.6 s): the message is
    // dropped and stays `sent`, even once the phone is back.
    let phone = "16315550402";
    stack.wanet.consumer_says(phone, "hi");
    set_profile(&stack, phone, "offline");
    let (status, config) = stack
        .wanet
        .patch("/control/config", json!({"time_scale": 0.000001}));
    assert_eq!(status, 200, "{config}");
    let lost = sent_id(&stack, phone, "too late");
    wait_consumer(&stack, phone, |c| c["expired_held"] == 1);
    set_profile(&stack, phone, "normal");
    let later = sent_id(&stack, phone, "welcome back");
    let bodies = receiver.wait_until(WAIT, "the later message delivered", |b| {
        has_status(b, &later, "delivered")
    });
    assert_eq!(
        status_codes(&bodies, &lost),
        vec![("sent".to_string(), None)]
    );
}

#[test]
fn realistic_latency_delays_delivery_and_a_prefix_rule_slows_a_route() {
    let (_db, receiver, stack) = start_with(&["--latency", "realistic", "--read-probability", "0"]);
    let (domestic, abroad) = ("16315550500", "447400900500");
    // A slow route to one range: delivered 9 s after acceptance.
    let rule = json!({"prefix": "4474009005", "min_ms": 9000, "max_ms": 9000});
    let (status, body) = stack.wanet.post("/control/latency", rule);
    assert_eq!(status, 201, "{body}");
    let (_, rules) = stack.wanet.get("/control/latency");
    assert_eq!(rules["rules"][0]["prefix"], "4474009005", "{rules}");
    let started = Instant::now();
    for phone in [domestic, abroad] {
        stack.wanet.consumer_says(phone, "hi");
    }
    let ids: Vec<String> = [domestic, abroad]
        .iter()
        .map(|phone| sent_id(&stack, phone, "on its way"))
        .collect();
    let bodies = receiver.wait_until(WAIT, "both delivered", |b| {
        ids.iter().all(|id| has_status(b, id, "delivered"))
    });
    println!("both delivered {:?} after the sends", started.elapsed());
    // Lower bounds only (the network sleeps at least that long); whole seconds, so one less.
    let gap = |id: &str| status_time(&bodies, id, "delivered") - status_time(&bodies, id, "sent");
    let (near, far) = (gap(&ids[0]), gap(&ids[1]));
    println!("sent → delivered: domestic {near} s, slow route {far} s");
    assert!(near >= 2, "realistic delivery takes 3 s at least: {near} s");
    assert!(far >= 8, "the prefix rule says 9 s: {far} s");
}

#[test]
fn sanctioned_regions_are_cut_off_both_ways_and_cannot_register() {
    let (_db, receiver, stack) = start();
    // Users there (Crimea inside +7 included) cannot write to the business...
    for user in ["989121234567", "79781234567"] {
        let (status, reply) = stack.wanet.post(
            &format!("/control/consumers/{user}/messages"),
            json!({"type": "text", "text": {"body": "hello"}}),
        );
        assert_eq!(status, 400, "{user}: {reply}");
    }
    // ...and a template to them is accepted but never delivered: it stays `sent`.
    let crimea = "79781234567";
    let lost = send_template(&stack, crimea);
    let reached = send_template(&stack, "79161234567");
    let bodies = receiver.wait_until(WAIT, "the Moscow template delivered", |b| {
        has_status(b, &reached, "delivered") && has_status(b, &lost, "sent")
    });
    assert_eq!(
        status_codes(&bodies, &lost),
        vec![("sent".to_string(), None)]
    );
    let inbound = bodies
        .iter()
        .filter(|b| b.get("messages").is_some())
        .count();
    assert_eq!(
        inbound, 0,
        "no consumer message reached the business: {bodies:?}"
    );

    // A business number in a sanctioned country cannot register.
    let cert = stack.wanet.cert("Tehran Traders");
    let body = json!({"cc": "98", "phone_number": "9121234567", "method": "sms", "cert": cert});
    let r = stack
        .api()
        .call("POST", "/v1/account", Some(&stack.admin), Some(body));
    r.expect_error(403, 1005);
    assert!(r.details().contains("sanctioned_region"), "{:?}", r.body);
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

#[test]
fn sends_fail_until_the_terms_of_service_are_accepted() {
    let (_db, receiver, stack) = start();
    let customer = "16315550600";
    stack.wanet.consumer_says(customer, "hi");
    let terms = |accepted: bool| {
        let path = format!("/control/businesses/{}/terms", e2e::stack::BUSINESS_WA_ID);
        let (status, body) = stack.wanet.post(&path, json!({ "accepted": accepted }));
        assert_eq!(status, 200, "{body}");
    };
    terms(false);
    let refused = sent_id(&stack, customer, "before accepting");
    let bodies = receiver.wait_until(WAIT, "the refusal", |b| has_status(b, &refused, "failed"));
    assert_eq!(
        status_codes(&bodies, &refused),
        vec![("failed".to_string(), Some(1005))]
    );
    terms(true);
    let accepted = sent_id(&stack, customer, "after accepting");
    receiver.wait_until(WAIT, "delivered once accepted", |b| {
        has_status(b, &accepted, "delivered")
    });
}
