//! `Idempotency-Key` on `POST /v1/messages` across the processes (docs/compatibility.md): a client
//! whose answer was lost retries with the same key after the coreapp was killed and restarted, and
//! gets the first answer back while the phone receives the message once; the same key with another
//! body is refused; sends without the header are unchanged. The storage rule itself (one message
//! per key, also when sends race; expiry) is tested on every backend in
//! `crates/store/tests/idempotency.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{messaging_on, Messaging};
use e2e::Reply;
use serde_json::{json, Value};
use std::time::Duration;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);
const CONSUMER: &str = "16315550177";

fn send(stack: &Messaging, key: Option<&str>, body: &Value) -> Reply {
    let mut request = stack
        .api()
        .request("POST", "/v1/messages")
        .header("Authorization", &stack.admin)
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    stack.api().send(request)
}

fn text(body: &str) -> Value {
    json!({"to": CONSUMER, "type": "text", "text": {"body": body}})
}

fn id_of(reply: &Reply) -> String {
    reply.body["messages"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The bodies of the texts the phone received, in order, once `marker` has arrived (messages to
/// one recipient leave in the order they were stored, so anything sent before it is there too).
fn received_until(stack: &Messaging, marker: &str) -> Vec<String> {
    stack.wanet.wait_for_received(CONSUMER, WAIT, |received| {
        received
            .iter()
            .any(|m| m["message"]["text"]["body"] == marker)
            .then(|| json!(received))
    });
    let consumer = stack.wanet.consumer(CONSUMER);
    consumer["received"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["message"]["text"]["body"].as_str().map(str::to_string))
        .collect()
}

fn retry_after_a_lost_answer_sends_once(backend: Backend) {
    let (_db, _receiver, mut stack) = messaging_on(backend, &[]);
    stack.register();
    // The consumer writes first, so free-form messages are inside the service window.
    stack.wanet.consumer_says(CONSUMER, "hello");
    let key = "order-4711-confirmation";

    // The first attempt is stored and answered, but the client never reads the answer: the
    // coreapp is killed right after it.
    let first = send(&stack, Some(key), &text("once"));
    first.expect_status(201);
    stack.restart_coreapp();
    stack.wait_for_gateway("connected");

    // The retry gets the first answer back (same id) and sends nothing new.
    let retry = send(&stack, Some(key), &text("once"));
    retry.expect_status(201);
    assert_eq!(id_of(&retry), id_of(&first));
    assert_eq!(retry.body["contacts"], first.body["contacts"]);
    // The same key with another body is refused, and sends nothing either.
    let other = send(&stack, Some(key), &text("twice"));
    other.expect_error(400, 1009);
    assert!(other.details().contains(key), "{}", other.details());
    // A key that is not visible ASCII is refused before anything is sent.
    send(&stack, Some("two words"), &text("bad key")).expect_error(400, 1009);
    // Without the header every send is a new message, as before.
    let plain_a = send(&stack, None, &text("plain"));
    let plain_b = send(&stack, None, &text("plain"));
    plain_a.expect_status(201);
    plain_b.expect_status(201);
    assert_ne!(id_of(&plain_a), id_of(&plain_b));
    send(&stack, None, &text("marker")).expect_status(201);

    let bodies = received_until(&stack, "marker");
    assert_eq!(bodies, ["once", "plain", "plain", "marker"], "{bodies:?}");
}

#[test]
fn retry_after_a_lost_answer_sends_once_on_mysql() {
    retry_after_a_lost_answer_sends_once(Backend::Mysql);
}

#[test]
fn retry_after_a_lost_answer_sends_once_on_postgres() {
    retry_after_a_lost_answer_sends_once(Backend::Postgres);
}

#[test]
fn retry_after_a_lost_answer_sends_once_on_sqlite() {
    retry_after_a_lost_answer_sends_once(Backend::Sqlite);
}
