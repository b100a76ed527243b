//! The webhook dispatcher against real HTTP receivers on loopback, on every backend. Timings are
//! only ever asserted as loose bounds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{unused_addr, wait_until, Receiver, Reply};
use coreapp::engine::dispatcher::{spawn_dispatcher, DispatcherOptions};
use coreapp::state::settings::SettingsHandle;
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use wa_store::{testing::TestDb, Backend, NewCallback, Store};

on_every_backend!(
    delivers_the_exact_body,
    failures_are_retried_with_growing_capped_gaps,
    refused_connections_are_retried_until_the_receiver_is_up,
    only_http_200_is_success,
    timeouts_and_dropped_connections_are_retried,
    empty_url_sends_nothing_and_keeps_the_queue,
    concurrency_never_exceeds_max_concurrent_requests,
    a_new_url_is_used_without_restart,
);

/// Long enough for a loaded CI machine; every wait ends as soon as its condition holds.
const PATIENCE: Duration = Duration::from_secs(20);

struct Harness {
    store: Store,
    settings: SettingsHandle,
    wake: Arc<Notify>,
    dispatcher: JoinHandle<()>,
    // Dropped last: the database goes away after the dispatcher stopped using it.
    _db: TestDb,
}

impl Harness {
    async fn start(backend: Backend, settings: Value) -> Harness {
        let db = TestDb::new(backend);
        let store = Store::connect(&db.config()).await.unwrap();
        let handle = SettingsHandle::load(&store).await.unwrap();
        if settings
            .as_object()
            .is_some_and(|fields| !fields.is_empty())
        {
            handle.patch(&store, &settings).await.unwrap();
        }
        let wake = Arc::new(Notify::new());
        let options = DispatcherOptions {
            request_timeout: Duration::from_millis(1000),
            connect_timeout: Duration::from_millis(500),
            poll_interval: Duration::from_millis(20),
        };
        let dispatcher = spawn_dispatcher(store.clone(), handle.clone(), wake.clone(), options);
        Harness {
            store,
            settings: handle,
            wake,
            dispatcher,
            _db: db,
        }
    }

    async fn enqueue(&self, key: &str, body: &str) {
        let queued = self
            .store
            .enqueue_callback(NewCallback {
                event_key: key.to_string(),
                kind: "status_change".to_string(),
                body: body.to_string(),
                cloud: false,
            })
            .await
            .unwrap();
        assert!(queued);
        self.wake.notify_one();
    }

    async fn patch(&self, patch: Value) {
        self.settings.patch(&self.store, &patch).await.unwrap();
    }

    async fn pending(&self) -> i64 {
        self.store.pending_callback_count().await.unwrap()
    }

    async fn wait_until_drained(&self) {
        let deadline = Instant::now() + PATIENCE;
        while self.pending().await > 0 {
            assert!(Instant::now() < deadline, "the outbox was not drained");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Attempts recorded so far for the oldest queued callback.
    async fn attempts(&self) -> i32 {
        let queued = self
            .store
            .due_callbacks(
                wa_api::webhooks::WebhookTarget::OnPrem,
                i64::MAX,
                1,
                Vec::new(),
            )
            .await
            .unwrap();
        queued.first().map_or(0, |callback| callback.attempts)
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.dispatcher.abort();
    }
}

fn url_settings(url: &str) -> Value {
    json!({ "webhooks": { "url": url } })
}

fn fast_retries(url: &str) -> Value {
    json!({
        "webhooks": { "url": url },
        "callback_backoff_delay_ms": 50,
        "max_callback_backoff_delay_ms": 100,
    })
}

async fn delivers_the_exact_body(backend: Backend) {
    let receiver = Receiver::start().await;
    let url = receiver.url("/hook?auth=s3cret&id=7");
    let harness = Harness::start(backend, url_settings(&url)).await;
    // Odd spacing and non-ASCII: the stored string must arrive byte for byte.
    let body = "{ \"statuses\":[{\"id\":\"gBEGkYiEB1VXAglK1ZEqA1YKPrU\",\"status\":\"read\"}],\n \"note\":\"héllo 😀\" }";
    harness.enqueue("status:1:read", body).await;
    harness.wait_until_drained().await;

    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body, body);
    assert_eq!(received[0].target, "/hook?auth=s3cret&id=7");
    assert_eq!(
        received[0].content_type.as_deref(),
        Some("application/json")
    );
}

async fn failures_are_retried_with_growing_capped_gaps(backend: Backend) {
    let receiver = Receiver::start().await;
    receiver.script([Reply::Status(500); 5]);
    let settings = json!({
        "webhooks": { "url": receiver.url("/hook") },
        "callback_backoff_delay_ms": 100,
        "max_callback_backoff_delay_ms": "400",
    });
    let harness = Harness::start(backend, settings).await;
    harness.enqueue("status:2:sent", "{\"n\":2}").await;
    harness.wait_until_drained().await;

    let received = receiver.received();
    assert_eq!(received.len(), 6, "five failures, then the success");
    assert!(received.iter().all(|r| r.body == "{\"n\":2}"));
    let gaps: Vec<Duration> = received.windows(2).map(|w| w[1].at - w[0].at).collect();
    // Never earlier than the back-off (100, 200, then the 400 cap); a little slack for clocks.
    let floors = [90, 180, 360, 360, 360];
    for (gap, floor) in gaps.iter().zip(floors) {
        assert!(*gap >= Duration::from_millis(floor), "gaps {gaps:?}");
    }
    // Capped: doubling on would have waited 1600 ms before the last attempt.
    assert!(gaps[4] < Duration::from_millis(1500), "gaps {gaps:?}");
}

async fn refused_connections_are_retried_until_the_receiver_is_up(backend: Backend) {
    let addr = unused_addr().await;
    let url = format!("http://{addr}/hook");
    let harness = Harness::start(backend, fast_retries(&url)).await;
    harness.enqueue("inbound:1", "{\"messages\":[]}").await;

    let deadline = Instant::now() + PATIENCE;
    while harness.attempts().await < 2 {
        assert!(
            Instant::now() < deadline,
            "no failed attempts were recorded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(harness.pending().await, 1);

    let receiver = Receiver::start_on(addr).await;
    harness.wait_until_drained().await;
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body, "{\"messages\":[]}");
}

async fn only_http_200_is_success(backend: Backend) {
    let receiver = Receiver::start().await;
    receiver.script([
        Reply::Status(204),
        Reply::Status(302),
        Reply::Status(201),
        Reply::Status(404),
    ]);
    let harness = Harness::start(backend, fast_retries(&receiver.url("/hook"))).await;
    harness.enqueue("status:3:delivered", "{}").await;
    harness.wait_until_drained().await;

    let received = receiver.received();
    assert_eq!(received.len(), 5, "{received:?}");
    // The redirect's Location was never followed.
    assert!(received.iter().all(|r| r.target == "/hook"), "{received:?}");
}

async fn timeouts_and_dropped_connections_are_retried(backend: Backend) {
    let receiver = Receiver::start().await;
    // The harness gives up on a request after 1 s.
    receiver.script([
        Reply::Close,
        Reply::Delayed(Duration::from_millis(2500), 200),
    ]);
    let harness = Harness::start(backend, fast_retries(&receiver.url("/hook"))).await;
    harness.enqueue("status:4:read", "{\"n\":4}").await;
    harness.wait_until_drained().await;

    let received = receiver.received();
    assert!(received.len() >= 3, "{received:?}");
    assert!(received.iter().all(|r| r.body == "{\"n\":4}"));
}

async fn empty_url_sends_nothing_and_keeps_the_queue(backend: Backend) {
    let receiver = Receiver::start().await;
    let harness = Harness::start(backend, json!({})).await;
    for i in 0..3 {
        harness
            .enqueue(&format!("inbound:{i}"), &format!("{{\"i\":{i}}}"))
            .await;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(receiver.received().is_empty());
    assert_eq!(harness.pending().await, 3);
    assert_eq!(
        harness.attempts().await,
        0,
        "nothing may have been attempted"
    );

    // Setting a URL starts delivery without a restart, oldest first.
    harness.patch(url_settings(&receiver.url("/hook"))).await;
    harness.wait_until_drained().await;
    let bodies: Vec<String> = receiver.received().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies.len(), 3);
    for i in 0..3 {
        assert!(bodies.contains(&format!("{{\"i\":{i}}}")), "{bodies:?}");
    }

    // Removing the URL stops delivery again.
    harness.patch(url_settings("")).await;
    harness.enqueue("inbound:late", "{}").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 3);
    assert_eq!(harness.pending().await, 1);
}

async fn concurrency_never_exceeds_max_concurrent_requests(backend: Backend) {
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::Delayed(Duration::from_millis(300), 200));
    let harness = Harness::start(backend, url_settings(&receiver.url("/hook"))).await;
    for i in 0..24 {
        harness.enqueue(&format!("status:{i}:sent"), "{}").await;
    }
    harness.wait_until_drained().await;
    assert_eq!(receiver.received().len(), 24);
    let max = receiver.max_in_flight();
    assert!(
        (2..=6).contains(&max),
        "max in flight {max} with a limit of 6"
    );

    // A higher limit applies at once, and is respected too.
    receiver.reset_max_in_flight();
    harness
        .patch(json!({ "webhooks": { "max_concurrent_requests": 12 } }))
        .await;
    for i in 0..48 {
        harness.enqueue(&format!("status:{i}:read"), "{}").await;
    }
    harness.wait_until_drained().await;
    let max = receiver.max_in_flight();
    assert!(
        (7..=12).contains(&max),
        "max in flight {max} with a limit of 12"
    );
}

async fn a_new_url_is_used_without_restart(backend: Backend) {
    let first = Receiver::start().await;
    let second = Receiver::start().await;
    let harness = Harness::start(backend, url_settings(&first.url("/a"))).await;
    harness.enqueue("status:5:sent", "{\"to\":\"a\"}").await;
    harness.wait_until_drained().await;

    harness.patch(url_settings(&second.url("/b"))).await;
    harness.enqueue("status:6:sent", "{\"to\":\"b\"}").await;
    harness.wait_until_drained().await;

    wait_until(PATIENCE, "the second receiver", || {
        second.received().len() == 1
    })
    .await;
    assert_eq!(first.received().len(), 1);
    assert_eq!(first.received()[0].body, "{\"to\":\"a\"}");
    assert_eq!(second.received()[0].body, "{\"to\":\"b\"}");
    assert_eq!(second.received()[0].target, "/b");
}
