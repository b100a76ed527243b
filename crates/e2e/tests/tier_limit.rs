//! The messaging tier end to end (spec onprem-messaging §8, 471 `Spam rate limit hit`): with the
//! number's tier lowered to 3 unique users, templates sent at once to 5 new users are all
//! accepted (201); 3 reach their phones, the other 2 fail with 471 in their status webhook and
//! reach nobody, every accepted message ends exactly once, and users already reached stay
//! reachable. On every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{messaging_on, Messaging, BUSINESS_WA_ID};
use e2e::webhooks::statuses;
use serde_json::{json, Value};
use std::time::Duration;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);
const TIER: usize = 3;
const NEW_USERS: usize = 5;

fn send_template(stack: &Messaging, to: &str, namespace: &str) -> String {
    let body = json!({ "to": to, "type": "template", "template": {
        "namespace": namespace, "name": "hello_world",
        "language": { "policy": "deterministic", "code": "en_US" } } });
    let r = stack
        .api()
        .call("POST", "/v1/messages", Some(&stack.admin), Some(body));
    r.expect_status(201);
    r.body["messages"][0]["id"].as_str().unwrap().to_string()
}

/// Delivered or failed: the message will not change any more (read may follow delivered).
fn has_ended(bodies: &[Value], id: &str) -> bool {
    statuses(bodies, id)
        .iter()
        .any(|s| s["status"] == "delivered" || s["status"] == "failed")
}

fn sends_beyond_the_tier_fail_with_471(backend: Backend) {
    let (_db, receiver, stack) = messaging_on(backend, &[]);
    stack.register();
    let (status, limits) = stack.wanet.post(
        &format!("/control/businesses/{BUSINESS_WA_ID}/limits"),
        json!({ "tier": TIER }),
    );
    assert_eq!(status, 200, "{limits}");
    let r = stack
        .api()
        .call("GET", "/v1/templates", Some(&stack.admin), None);
    let namespace = r.body["templates"][0]["namespace"]
        .as_str()
        .unwrap()
        .to_string();

    // All at once, as a campaign would: which users get through is up to the order in which
    // the network sees the sends, how many is not.
    let users: Vec<String> = (0..NEW_USERS).map(|n| format!("1631555170{n}")).collect();
    let sent: Vec<(String, String)> = users
        .iter()
        .map(|user| (user.clone(), send_template(&stack, user, &namespace)))
        .collect();
    let bodies = receiver.wait_until(WAIT, "an outcome for every send", |b| {
        sent.iter().all(|(_, id)| has_ended(b, id))
    });
    let mut reached = Vec::new();
    let mut refused = 0;
    for (user, id) in &sent {
        let statuses = statuses(&bodies, id);
        let failed: Vec<_> = statuses
            .iter()
            .filter(|s| s["status"] == "failed")
            .collect();
        let delivered = statuses
            .iter()
            .filter(|s| s["status"] == "delivered")
            .count();
        match (failed.len(), delivered) {
            (1, 0) => {
                assert_eq!(statuses.len(), 1, "nothing but the failure: {statuses:?}");
                let error = &failed[0]["errors"][0];
                assert_eq!(error["code"], 471, "{error}");
                assert_eq!(error["title"], "Spam rate limit hit");
                assert_eq!(failed[0]["recipient_id"], user.as_str());
                assert_eq!(stack.wanet.consumer(user)["received_count"], 0);
                refused += 1;
            }
            (0, 1) => reached.push(user.clone()),
            _ => panic!("{user} must end exactly once: {statuses:?}"),
        }
    }
    assert_eq!((reached.len(), refused), (TIER, NEW_USERS - TIER));

    // A user reached before is still reachable once the tier is used up.
    let again = send_template(&stack, &reached[0], &namespace);
    let bodies = receiver.wait_until(WAIT, "the repeat to a reached user", |b| {
        has_ended(b, &again)
    });
    let statuses = statuses(&bodies, &again);
    assert!(
        statuses.iter().all(|s| s["status"] != "failed"),
        "{statuses:?}"
    );
    let (_, limits) = stack
        .wanet
        .get(&format!("/control/businesses/{BUSINESS_WA_ID}/limits"));
    assert_eq!(limits["users_reached"], TIER, "{limits}");
    assert_eq!(limits["tier_refusals"], NEW_USERS - TIER, "{limits}");
}

#[test]
fn tier_limit_on_sqlite() {
    sends_beyond_the_tier_fail_with_471(Backend::Sqlite);
}

#[test]
fn tier_limit_on_mysql() {
    sends_beyond_the_tier_fail_with_471(Backend::Mysql);
}

#[test]
fn tier_limit_on_postgres() {
    sends_beyond_the_tier_fail_with_471(Backend::Postgres);
}
