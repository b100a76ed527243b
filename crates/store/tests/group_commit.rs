//! Concurrent hot writes share commits (`group_commit`) without losing or misattributing any of
//! them, on every backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::connect_to;
use tokio::task::JoinSet;
use wa_store::{
    testing::TestDb, Backend, InboundMessage, NewCallback, OutboundMessage, StatusOutcome,
    StoreError,
};

on_every_backend!(
    concurrent_writes_are_all_committed,
    a_failing_write_fails_only_its_caller,
    redelivered_inbound_and_webhook_deletes_share_commits,
    status_webhooks_of_a_batch_skip_events_already_queued,
);

const WRITERS: usize = 300;

fn outbound(id: &str) -> OutboundMessage {
    OutboundMessage {
        id: id.to_string(),
        to: "16315551234".to_string(),
        msg_type: "text".to_string(),
        payload: "{\"text\":{\"body\":\"hi\"}}".to_string(),
        created_ms: 1,
    }
}

fn status_callback(id: &str, status: &str) -> NewCallback {
    NewCallback {
        event_key: format!("status:{id}:{status}"),
        kind: "status_change".to_string(),
        body: format!("{{\"id\":\"{id}\",\"status\":\"{status}\"}}"),
        cloud: false,
    }
}

async fn concurrent_writes_are_all_committed(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let mut inserts = JoinSet::new();
    for n in 0..WRITERS {
        let store = store.clone();
        inserts.spawn(async move { store.insert_outbound(outbound(&format!("gB{n}"))).await });
    }
    while let Some(done) = inserts.join_next().await {
        done.unwrap().unwrap();
    }
    // Each message advances twice concurrently; the same event twice queues one webhook.
    let mut statuses = JoinSet::new();
    for n in 0..WRITERS {
        for status in ["sent", "sent", "delivered"] {
            let store = store.clone();
            statuses.spawn(async move {
                let id = format!("gB{n}");
                store
                    .record_status(&id, status, Some(status_callback(&id, status)))
                    .await
            });
        }
    }
    let mut advanced = 0;
    while let Some(done) = statuses.join_next().await {
        if done.unwrap().unwrap() == StatusOutcome::Advanced {
            advanced += 1;
        }
    }
    // `sent` then `delivered`, or `delivered` first (then `sent` is not newer): 1 or 2 per message.
    assert!((WRITERS..=2 * WRITERS).contains(&advanced), "{advanced}");
    let counts = store.message_counts().await.unwrap();
    assert_eq!(
        counts,
        vec![(true, "delivered".to_string(), WRITERS as i64)]
    );
    assert_eq!(
        store.pending_callback_count().await.unwrap(),
        advanced as i64,
        "one webhook per advance, none for repeats"
    );
}

async fn a_failing_write_fails_only_its_caller(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    store.insert_outbound(outbound("gBtaken")).await.unwrap();
    let mut writes = JoinSet::new();
    for n in 0..50 {
        let store = store.clone();
        writes.spawn(async move {
            let id = if n == 25 {
                "gBtaken".to_string()
            } else {
                format!("gBok{n}")
            };
            (id.clone(), store.insert_outbound(outbound(&id)).await)
        });
    }
    let mut failures = Vec::new();
    while let Some(done) = writes.join_next().await {
        let (id, outcome) = done.unwrap();
        if let Err(error) = outcome {
            failures.push((id, error));
        }
    }
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].0, "gBtaken");
    assert!(
        matches!(failures[0].1, StoreError::Conflict),
        "{:?}",
        failures[0].1
    );
    let stored: i64 = store
        .message_counts()
        .await
        .unwrap()
        .iter()
        .map(|(_, _, n)| n)
        .sum();
    assert_eq!(stored, 50);
}

/// A batch's status webhooks are inserted together; one whose event is queued already is skipped
/// without failing the others (on MySQL that batch's webhooks then go in row by row).
async fn status_webhooks_of_a_batch_skip_events_already_queued(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let mut inserts = JoinSet::new();
    for n in 0..WRITERS {
        let store = store.clone();
        inserts.spawn(async move { store.insert_outbound(outbound(&format!("gQ{n}"))).await });
    }
    while let Some(done) = inserts.join_next().await {
        done.unwrap().unwrap();
    }
    for n in (0..WRITERS).step_by(3) {
        let id = format!("gQ{n}");
        let queued = store.enqueue_callback(status_callback(&id, "sent")).await;
        assert!(queued.unwrap(), "{id}");
    }
    let mut statuses = JoinSet::new();
    for n in 0..WRITERS {
        let store = store.clone();
        statuses.spawn(async move {
            let id = format!("gQ{n}");
            let callback = status_callback(&id, "sent");
            (
                id.clone(),
                store.record_status(&id, "sent", Some(callback)).await,
            )
        });
    }
    while let Some(done) = statuses.join_next().await {
        let (id, outcome) = done.unwrap();
        assert_eq!(outcome.unwrap(), StatusOutcome::Advanced, "{id}");
    }
    assert_eq!(
        store.message_counts().await.unwrap(),
        vec![(true, "sent".to_string(), WRITERS as i64)]
    );
    assert_eq!(
        store.pending_callback_count().await.unwrap(),
        WRITERS as i64,
        "one `sent` webhook per message, the ones queued before included"
    );
}

fn inbound(n: usize) -> (InboundMessage, NewCallback) {
    let id = format!("ABGG{n}");
    let message = InboundMessage {
        id: id.clone(),
        from: format!("1631555{:04}", n % 7),
        msg_type: "text".to_string(),
        payload: "{}".to_string(),
        received_ms: 1_000,
    };
    let callback = NewCallback {
        event_key: format!("inbound:{id}"),
        kind: "inbound_message".to_string(),
        body: format!("{{\"id\":\"{id}\"}}"),
        cloud: false,
    };
    (message, callback)
}

/// A network that sends pushes again (after a reconnect) mixes messages already stored with new
/// ones in one commit: the repeats are reported as such without failing their batch, and the
/// deletes of delivered webhooks, folded into one statement per commit, remove exactly theirs.
async fn redelivered_inbound_and_webhook_deletes_share_commits(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    for n in (0..WRITERS).step_by(3) {
        let (message, callback) = inbound(n);
        assert!(store.insert_inbound(message, callback).await.unwrap());
    }
    let mut inserts = JoinSet::new();
    for n in 0..WRITERS {
        let store = store.clone();
        inserts.spawn(async move {
            let (message, callback) = inbound(n);
            (n, store.insert_inbound(message, callback).await)
        });
    }
    while let Some(done) = inserts.join_next().await {
        let (n, inserted) = done.unwrap();
        assert_eq!(inserted.unwrap(), n % 3 != 0, "message {n}");
    }
    let queued = store
        .due_callbacks(
            wa_api::webhooks::WebhookTarget::OnPrem,
            i64::MAX,
            1_000,
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(queued.len(), WRITERS, "one webhook per message");

    let (delivered, kept): (Vec<_>, Vec<_>) = queued.iter().partition(|c| c.id % 2 == 0);
    let mut deletes = JoinSet::new();
    for callback in &delivered {
        let (store, id) = (store.clone(), callback.id);
        deletes.spawn(async move { store.delete_callback(id).await });
    }
    while let Some(done) = deletes.join_next().await {
        done.unwrap().unwrap();
    }
    let left: Vec<i64> = store
        .due_callbacks(
            wa_api::webhooks::WebhookTarget::OnPrem,
            i64::MAX,
            1_000,
            Vec::new(),
        )
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    let expected: Vec<i64> = kept.iter().map(|c| c.id).collect();
    assert_eq!(left, expected);
}
