//! Idempotency keys of `POST /v1/messages` on every backend: the message and its key's answer are
//! stored together; a key already taken stores nothing and returns the first answer, also when
//! the two sends race; a key older than the window may be used again and is swept.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::connect_to;
use wa_store::{testing::TestDb, Backend, IdempotentSend, OutboundMessage, Store};

on_every_backend!(
    a_key_stores_one_message_and_answers_repeats,
    racing_sends_with_one_key_store_one_message,
    expired_keys_are_reused_and_swept,
);

const DAY_MS: i64 = 86_400_000;

fn outbound(id: &str, created_ms: i64) -> OutboundMessage {
    OutboundMessage {
        id: id.to_string(),
        to: "16315551234".to_string(),
        msg_type: "text".to_string(),
        payload: "{\"text\":{\"body\":\"hi\"}}".to_string(),
        created_ms,
    }
}

fn answer(key: &str, id: &str, created_ms: i64) -> IdempotentSend {
    IdempotentSend {
        key: key.to_string(),
        request_hash: "h1".to_string(),
        message_id: id.to_string(),
        response: format!("{{\"messages\":[{{\"id\":\"{id}\"}}]}}"),
        created_ms,
    }
}

async fn pending_ids(store: &Store) -> Vec<String> {
    let pending = store.pending_outbound(100, Vec::new(), None).await.unwrap();
    pending.into_iter().map(|m| m.id).collect()
}

async fn send(store: &Store, key: &str, id: &str, now: i64) -> Option<IdempotentSend> {
    store
        .insert_outbound_idempotent(outbound(id, now), None, answer(key, id, now), now - DAY_MS)
        .await
        .unwrap()
}

async fn a_key_stores_one_message_and_answers_repeats(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let now = 10 * DAY_MS;
    assert_eq!(send(&store, "k-1", "m1", now).await, None);
    let first = answer("k-1", "m1", now);
    assert_eq!(
        store
            .find_idempotent_send("k-1", now - DAY_MS)
            .await
            .unwrap(),
        Some(first.clone())
    );
    // The repeat gets the first answer back and stores no message of its own.
    assert_eq!(send(&store, "k-1", "m2", now + 5).await, Some(first));
    assert_eq!(pending_ids(&store).await, vec!["m1".to_string()]);
    // Another key is another send.
    assert_eq!(send(&store, "k-2", "m3", now + 6).await, None);
    assert_eq!(
        pending_ids(&store).await,
        vec!["m1".to_string(), "m3".to_string()]
    );
}

async fn racing_sends_with_one_key_store_one_message(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let now = 10 * DAY_MS;
    let sends = (0..8).map(|n| {
        let store = store.clone();
        tokio::spawn(async move { send(&store, "race", &format!("m{n}"), now).await })
    });
    let mut first_answers = 0;
    for outcome in futures_join(sends).await {
        if outcome.is_none() {
            first_answers += 1;
        }
    }
    assert_eq!(first_answers, 1);
    let stored = pending_ids(&store).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    let kept = store
        .find_idempotent_send("race", 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.message_id, stored[0]);
}

async fn futures_join(
    handles: impl Iterator<Item = tokio::task::JoinHandle<Option<IdempotentSend>>>,
) -> Vec<Option<IdempotentSend>> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await.unwrap());
    }
    out
}

async fn expired_keys_are_reused_and_swept(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let day1 = 10 * DAY_MS;
    assert_eq!(send(&store, "old", "m1", day1).await, None);
    assert_eq!(send(&store, "kept", "m2", day1 + DAY_MS / 2).await, None);
    // A day and a moment later the key is free again: a new message, a new answer.
    let day2 = day1 + DAY_MS + 1;
    assert_eq!(
        store
            .find_idempotent_send("old", day2 - DAY_MS)
            .await
            .unwrap(),
        None
    );
    assert_eq!(send(&store, "old", "m3", day2).await, None);
    assert_eq!(
        store
            .find_idempotent_send("old", day2 - DAY_MS)
            .await
            .unwrap()
            .map(|a| a.message_id),
        Some("m3".to_string())
    );
    // The sweep forgets what is older than the window and keeps the rest.
    let later = day1 + DAY_MS * 3 / 2 + 1;
    assert_eq!(
        store
            .delete_idempotency_keys_before(later - DAY_MS)
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.find_idempotent_send("kept", 0).await.unwrap(), None);
    assert!(store
        .find_idempotent_send("old", 0)
        .await
        .unwrap()
        .is_some());
}
