//! Each webhook target has its own rows in the outbox: an event queued for the Cloud API
//! subscription too is two rows, drained, retried and dropped separately, on every backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::connect_to;
use tokio::task::JoinSet;
use wa_api::webhooks::WebhookTarget;
use wa_store::{testing::TestDb, Backend, InboundMessage, NewCallback, OutboundMessage};

on_every_backend!(
    an_event_for_both_targets_is_queued_once_for_each,
    a_batch_of_statuses_is_queued_for_both_targets,
    ending_the_subscription_drops_only_its_rows,
    a_cloud_only_event_is_queued_for_the_cloud_target_alone,
);

const MESSAGES: usize = 60;

fn callback(key: &str, cloud: bool) -> NewCallback {
    NewCallback {
        event_key: key.to_string(),
        kind: "status_change".to_string(),
        body: format!("{{\"key\":\"{key}\"}}"),
        cloud,
    }
}

async fn due(store: &wa_store::Store, target: WebhookTarget) -> Vec<String> {
    store
        .due_callbacks(target, i64::MAX, 10_000, Vec::new())
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.body)
        .collect()
}

async fn due_sorted(store: &wa_store::Store, target: WebhookTarget) -> Vec<String> {
    let mut bodies = due(store, target).await;
    bodies.sort();
    bodies
}

async fn an_event_for_both_targets_is_queued_once_for_each(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    assert!(store.enqueue_callback(callback("a", true)).await.unwrap());
    assert!(store.enqueue_callback(callback("b", false)).await.unwrap());
    // The same event again is a duplicate for both targets.
    assert!(!store.enqueue_callback(callback("a", true)).await.unwrap());
    let message = InboundMessage {
        id: "ABGG1".into(),
        from: "16315551234".into(),
        msg_type: "text".into(),
        payload: "{}".into(),
        received_ms: 1,
    };
    let inbound = NewCallback {
        kind: "inbound_message".into(),
        ..callback("inbound:ABGG1", true)
    };
    assert!(store.insert_inbound(message, inbound).await.unwrap());
    assert_eq!(
        due_sorted(&store, WebhookTarget::OnPrem).await,
        [
            r#"{"key":"a"}"#,
            r#"{"key":"b"}"#,
            r#"{"key":"inbound:ABGG1"}"#
        ]
    );
    assert_eq!(
        due_sorted(&store, WebhookTarget::Cloud).await,
        [r#"{"key":"a"}"#, r#"{"key":"inbound:ABGG1"}"#]
    );
    assert_eq!(store.pending_callback_count().await.unwrap(), 5);
}

/// The statuses of one commit are inserted together (one statement on server databases): with
/// a subscription each gets its Cloud row in the same statement, and an event queued before is
/// skipped for both targets without failing the batch.
async fn a_batch_of_statuses_is_queued_for_both_targets(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    for n in 0..MESSAGES {
        let message = OutboundMessage {
            id: format!("gC{n}"),
            to: "16315551234".into(),
            msg_type: "text".into(),
            payload: "{}".into(),
            created_ms: 1,
        };
        store.insert_outbound(message).await.unwrap();
    }
    let key = |n: usize| format!("status:gC{n}:sent");
    for n in (0..MESSAGES).step_by(4) {
        assert!(store
            .enqueue_callback(callback(&key(n), true))
            .await
            .unwrap());
    }
    let mut statuses = JoinSet::new();
    for n in 0..MESSAGES {
        let store = store.clone();
        let webhook = callback(&key(n), true);
        statuses.spawn(async move {
            let id = format!("gC{n}");
            store.record_status(&id, "sent", Some(webhook)).await
        });
    }
    while let Some(done) = statuses.join_next().await {
        done.unwrap().unwrap();
    }
    for target in [WebhookTarget::OnPrem, WebhookTarget::Cloud] {
        let mut queued = due_sorted(&store, target).await;
        queued.dedup();
        assert_eq!(queued.len(), MESSAGES, "{target:?}: one row per event");
        assert_eq!(due(&store, target).await.len(), MESSAGES, "{target:?}");
    }
}

async fn ending_the_subscription_drops_only_its_rows(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    for n in 0..5 {
        let cloud = n % 2 == 0;
        store
            .enqueue_callback(callback(&format!("e{n}"), cloud))
            .await
            .unwrap();
    }
    assert_eq!(due(&store, WebhookTarget::Cloud).await.len(), 3);
    let dropped = store
        .drop_target_callbacks(WebhookTarget::Cloud)
        .await
        .unwrap();
    assert_eq!(dropped, 3);
    assert!(due(&store, WebhookTarget::Cloud).await.is_empty());
    assert_eq!(due(&store, WebhookTarget::OnPrem).await.len(), 5);
}

/// A template status change has no On-Prem webhook: one Cloud row while subscribed, none else.
async fn a_cloud_only_event_is_queued_for_the_cloud_target_alone(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let template = |key: &str, cloud: bool| NewCallback {
        kind: "template_status".to_string(),
        ..callback(key, cloud)
    };
    assert!(store.enqueue_callback(template("t1", true)).await.unwrap());
    assert!(!store.enqueue_callback(template("t1", true)).await.unwrap());
    assert!(!store.enqueue_callback(template("t2", false)).await.unwrap());
    assert_eq!(
        due(&store, WebhookTarget::OnPrem).await,
        Vec::<String>::new()
    );
    assert_eq!(
        due(&store, WebhookTarget::Cloud).await,
        vec!["{\"key\":\"t1\"}".to_string()]
    );
}
