//! Outbound messages that give up: the expiry stored with a message and the query that finds
//! the expired ones, on every backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::connect_to;
use wa_store::{testing::TestDb, Backend, OutboundMessage};

on_every_backend!(expired_pending_messages_are_found_once_past_their_expiry,);

fn outbound(id: &str, created_ms: i64) -> OutboundMessage {
    OutboundMessage {
        id: id.to_string(),
        to: "16315551234".to_string(),
        msg_type: "template".to_string(),
        payload: "{}".to_string(),
        created_ms,
    }
}

fn ids(messages: &[OutboundMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.id.as_str()).collect()
}

async fn expired_pending_messages_are_found_once_past_their_expiry(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    store
        .insert_outbound_expiring(outbound("soon", 1), Some(1_000))
        .await
        .unwrap();
    store
        .insert_outbound_expiring(outbound("later", 2), Some(5_000))
        .await
        .unwrap();
    store.insert_outbound(outbound("never", 3)).await.unwrap();
    store
        .insert_outbound_expiring(outbound("sent", 4), Some(1_000))
        .await
        .unwrap();
    store.record_status("sent", "sent", None).await.unwrap();

    assert!(store
        .expired_outbound(999, 10, vec![], None)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        ids(&store
            .expired_outbound(1_000, 10, vec![], None)
            .await
            .unwrap()),
        ["soon"]
    );
    let both = store
        .expired_outbound(10_000, 10, vec![], None)
        .await
        .unwrap();
    assert_eq!(ids(&both), ["soon", "later"]);
    assert_eq!(both[0].msg_type, "template");
    let excluded = store
        .expired_outbound(10_000, 10, vec!["soon".into()], None)
        .await
        .unwrap();
    assert_eq!(ids(&excluded), ["later"]);
    // Expired messages still show up in the send queue until they are failed; the delivery
    // worker fails them first.
    assert_eq!(
        store
            .pending_outbound(10, vec![], None)
            .await
            .unwrap()
            .len(),
        3
    );
}
