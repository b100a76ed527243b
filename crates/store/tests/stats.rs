//! The counts behind `GET /v1/stats/db` and `/v1/stats/db/internal` and the query timings, on
//! every backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::connect_to;
use wa_store::{testing::TestDb, Backend, DbCounts, InboundMessage, NewCallback, OutboundMessage};

on_every_backend!(
    an_empty_database_counts_zero,
    counts_follow_contacts_messages_receipts_and_callbacks,
    queries_are_timed_by_outcome,
);

fn outbound(id: &str) -> OutboundMessage {
    OutboundMessage {
        id: id.to_string(),
        to: "16315551234".to_string(),
        msg_type: "text".to_string(),
        payload: "{}".to_string(),
        created_ms: 1,
    }
}

fn callback(key: &str) -> NewCallback {
    NewCallback {
        event_key: key.to_string(),
        kind: "status_change".to_string(),
        body: "{}".to_string(),
        cloud: false,
    }
}

async fn an_empty_database_counts_zero(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    assert_eq!(store.db_counts().await.unwrap(), DbCounts::default());
    assert_eq!(store.pending_outbound_count().await.unwrap(), 0);
}

async fn counts_follow_contacts_messages_receipts_and_callbacks(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    store
        .save_contacts(
            vec![("1".into(), true), ("2".into(), false), ("3".into(), true)],
            100,
        )
        .await
        .unwrap();
    for id in ["gB1", "gB2", "gB3", "gB4"] {
        store.insert_outbound(outbound(id)).await.unwrap();
    }
    store
        .record_status("gB1", "sent", Some(callback("status:gB1:sent")))
        .await
        .unwrap();
    store.record_status("gB2", "delivered", None).await.unwrap();
    store.record_status("gB3", "read", None).await.unwrap();
    let inbound = InboundMessage {
        id: "ABin".into(),
        from: "16315551234".into(),
        msg_type: "image".into(),
        payload: "{}".into(),
        received_ms: 5,
    };
    store
        .insert_inbound(inbound, callback("inbound:ABin"))
        .await
        .unwrap();

    let counts = store.db_counts().await.unwrap();
    assert_eq!(
        counts,
        DbCounts {
            contacts_on_whatsapp: 2,
            contacts_not_on_whatsapp: 1,
            message_receipts: 2,
            messages_by_type: vec![("image".into(), 1), ("text".into(), 4)],
            pending_callbacks: 2,
            pending_messages: 1,
        }
    );
    assert_eq!(store.pending_outbound_count().await.unwrap(), 1);

    // The internal view counts every table; these are the rows written above.
    let rows: std::collections::HashMap<_, _> =
        store.table_rows().await.unwrap().into_iter().collect();
    assert_eq!(rows.len(), 18, "{rows:?}");
    assert_eq!(rows["messages"], 5, "{rows:?}");
    assert_eq!(rows["callbacks"], 2, "{rows:?}");
    assert_eq!(rows["contacts"], 3, "{rows:?}");
    assert_eq!(rows["users"], 0, "{rows:?}");
    // The migrations create the one lease row.
    assert_eq!(rows["cluster_lease"], 1, "{rows:?}");
    let pool = store.pool_state();
    assert!(
        pool.connections >= 1 && pool.connections <= pool.max_size,
        "{pool:?}"
    );
    assert!(pool.idle_connections <= pool.connections, "{pool:?}");
}

async fn queries_are_timed_by_outcome(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let before = store.query_timings();
    store.pending_outbound_count().await.unwrap();
    // The same id twice violates the primary key: a failed query.
    store.insert_outbound(outbound("gBdup")).await.unwrap();
    assert!(store.insert_outbound(outbound("gBdup")).await.is_err());
    let after = store.query_timings();
    assert_eq!(after.ok_count - before.ok_count, 2);
    assert_eq!(after.error_count - before.error_count, 1);
    assert!(after.ok_micros >= before.ok_micros);
}
