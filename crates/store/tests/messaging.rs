//! Registration, messages with their webhooks, contacts cache, conversations and the callback
//! outbox, on every backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::connect_to;
use wa_store::{
    testing::TestDb, Backend, Conversation, InboundMessage, NewCallback, OutboundMessage,
    Registration, StatusOutcome,
};

on_every_backend!(
    registration_is_replaced_not_duplicated,
    deregistering_without_a_registration_changes_nothing,
    outbound_messages_are_pending_until_sent_in_order,
    statuses_only_advance_and_queue_one_webhook_each,
    a_receipt_waits_for_sent_to_be_recorded,
    a_failed_message_keeps_its_errors,
    inbound_message_and_its_webhook_are_written_together_once,
    contacts_cache_honours_freshness,
    one_open_conversation_per_recipient,
    racing_opens_agree_on_one_conversation,
    callback_outbox_schedules_and_deletes,
);

fn callback(key: &str) -> NewCallback {
    NewCallback {
        event_key: key.to_string(),
        kind: "status_change".to_string(),
        body: format!("{{\"key\":\"{key}\"}}"),
        cloud: false,
    }
}

fn outbound(id: &str, created_ms: i64) -> OutboundMessage {
    OutboundMessage {
        id: id.to_string(),
        to: "16315551234".to_string(),
        msg_type: "text".to_string(),
        payload: "{\"text\":{\"body\":\"hi 😀\"}}".to_string(),
        created_ms,
    }
}

async fn registration_is_replaced_not_duplicated(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    assert_eq!(store.registration().await.unwrap(), None);
    let first = Registration {
        phone: "16315550000".into(),
        vname: "Acme".into(),
        secret: "s1".into(),
        registered_at: 1,
        deregistered_at: None,
    };
    store.save_registration(first).await.unwrap();
    let second = Registration {
        phone: "16315550000".into(),
        vname: "Acme 2".into(),
        secret: "s2".into(),
        registered_at: 2,
        deregistered_at: None,
    };
    store.save_registration(second.clone()).await.unwrap();
    assert_eq!(store.registration().await.unwrap(), Some(second.clone()));

    // Deregistering keeps the credentials; a new registration starts registered.
    assert!(store.set_deregistered(Some(7)).await.unwrap());
    let kept = store.registration().await.unwrap().unwrap();
    assert_eq!(
        (kept.secret.as_str(), kept.deregistered_at),
        ("s2", Some(7))
    );
    assert!(store.set_deregistered(None).await.unwrap());
    assert_eq!(store.registration().await.unwrap(), Some(second.clone()));
    store.set_deregistered(Some(8)).await.unwrap();
    store.save_registration(second.clone()).await.unwrap();
    assert_eq!(store.registration().await.unwrap(), Some(second));
}

async fn deregistering_without_a_registration_changes_nothing(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    assert!(!store.set_deregistered(Some(1)).await.unwrap());
    assert_eq!(store.registration().await.unwrap(), None);
}

async fn outbound_messages_are_pending_until_sent_in_order(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    store.insert_outbound(outbound("gB2", 20)).await.unwrap();
    store.insert_outbound(outbound("gB1", 10)).await.unwrap();
    store.insert_outbound(outbound("gB3", 30)).await.unwrap();
    let pending = store.pending_outbound(10, vec![], None).await.unwrap();
    let ids: Vec<_> = pending.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["gB1", "gB2", "gB3"]);
    assert_eq!(pending[0].payload, "{\"text\":{\"body\":\"hi 😀\"}}");
    let rest = store
        .pending_outbound(10, vec!["gB1".into()], None)
        .await
        .unwrap();
    assert_eq!(rest.len(), 2);
    assert_eq!(
        store.record_status("gB1", "sent", None).await.unwrap(),
        StatusOutcome::Advanced
    );
    assert_eq!(
        store
            .pending_outbound(10, vec![], None)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(store.insert_outbound(outbound("gB1", 40)).await.is_err());
}

async fn statuses_only_advance_and_queue_one_webhook_each(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    store.insert_outbound(outbound("gB1", 1)).await.unwrap();
    assert_eq!(
        store.find_message("gB1").await.unwrap().unwrap().updated_ms,
        1
    );
    let read = store
        .record_status("gB1", "read", Some(callback("status:gB1:read")))
        .await
        .unwrap();
    assert_eq!(read, StatusOutcome::Advanced);
    // A late `delivered` neither moves the message back nor queues a webhook.
    let late = store
        .record_status("gB1", "delivered", Some(callback("status:gB1:delivered")))
        .await
        .unwrap();
    assert_eq!(late, StatusOutcome::NotNewer);
    // The same status recorded twice queues one webhook.
    store
        .record_status("gB1", "read", Some(callback("status:gB1:read")))
        .await
        .unwrap();
    assert_eq!(store.pending_callback_count().await.unwrap(), 1);
    assert_eq!(
        store.find_message("gB1").await.unwrap().unwrap().status,
        "read"
    );
    // The status change is dated now, long after the message was created (at 1 ms).
    assert!(store.find_message("gB1").await.unwrap().unwrap().updated_ms > 1_000);
    assert_eq!(
        store.record_status("nope", "read", None).await.unwrap(),
        StatusOutcome::UnknownMessage
    );
}

/// Why a message failed is kept with it (GET /v1/messages/{id} answers it); other messages have
/// no errors.
async fn a_failed_message_keeps_its_errors(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    store.insert_outbound(outbound("gB3", 1)).await.unwrap();
    store.insert_outbound(outbound("gB4", 1)).await.unwrap();
    assert_eq!(
        store.find_message("gB3").await.unwrap().unwrap().errors,
        None
    );
    let errors = r#"[{"code":470,"title":"Message failed to send because more than 24 hours have passed since the customer last replied to this number","details":"24 hours"}]"#;
    let outcome = store
        .record_failure("gB3", None, errors.to_string(), false)
        .await
        .unwrap();
    assert_eq!(outcome, StatusOutcome::Advanced);
    // A failure recorded again (a write run again after a rollback) changes nothing.
    let again = store
        .record_failure("gB3", None, "[]".to_string(), false)
        .await
        .unwrap();
    assert_eq!(again, StatusOutcome::NotNewer);
    let failed = store.find_message("gB3").await.unwrap().unwrap();
    assert_eq!(failed.status, "failed");
    assert_eq!(failed.errors.as_deref(), Some(errors));
    assert_eq!(
        store.find_message("gB4").await.unwrap().unwrap().errors,
        None
    );
}

/// A phone's receipt for a message still `pending` (the coreapp stopped before it recorded the
/// network's acceptance) writes nothing, so the caller can record `sent` and its webhook first.
async fn a_receipt_waits_for_sent_to_be_recorded(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    store.insert_outbound(outbound("gB2", 1)).await.unwrap();
    let early = store
        .record_receipt("gB2", "delivered", Some(callback("status:gB2:delivered")))
        .await
        .unwrap();
    assert_eq!(early, StatusOutcome::NotSentYet);
    assert_eq!(store.pending_callback_count().await.unwrap(), 0);
    assert_eq!(
        store.find_message("gB2").await.unwrap().unwrap().status,
        "pending"
    );

    store
        .record_status("gB2", "sent", Some(callback("status:gB2:sent")))
        .await
        .unwrap();
    let delivered = store
        .record_receipt("gB2", "delivered", Some(callback("status:gB2:delivered")))
        .await
        .unwrap();
    assert_eq!(delivered, StatusOutcome::Advanced);
    let repeated = store
        .record_receipt("gB2", "delivered", None)
        .await
        .unwrap();
    assert_eq!(repeated, StatusOutcome::NotNewer);
    assert_eq!(store.pending_callback_count().await.unwrap(), 2);
    assert_eq!(
        store.record_receipt("nope", "read", None).await.unwrap(),
        StatusOutcome::UnknownMessage
    );
}

async fn inbound_message_and_its_webhook_are_written_together_once(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let msg = InboundMessage {
        id: "ABGG1".into(),
        from: "16315551234".into(),
        msg_type: "text".into(),
        payload: "{}".into(),
        received_ms: 5_000,
    };
    let cb = NewCallback {
        event_key: "inbound:ABGG1".into(),
        kind: "inbound_message".into(),
        body: "{\"messages\":[]}".into(),
        cloud: false,
    };
    assert!(store.insert_inbound(msg.clone(), cb.clone()).await.unwrap());
    assert!(!store.insert_inbound(msg, cb).await.unwrap());
    assert_eq!(
        store
            .queued_callback_bodies("inbound_message")
            .await
            .unwrap(),
        ["{\"messages\":[]}"]
    );
    let stored = store.find_message("ABGG1").await.unwrap().unwrap();
    assert!(!stored.outbound);
    assert_eq!(
        store.last_inbound_ms("16315551234").await.unwrap(),
        Some(5_000)
    );
    assert_eq!(store.last_inbound_ms("1999").await.unwrap(), None);
}

async fn contacts_cache_honours_freshness(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    store
        .save_contacts(vec![("1".into(), true), ("2".into(), false)], 100)
        .await
        .unwrap();
    store
        .save_contacts(vec![("1".into(), true)], 200)
        .await
        .unwrap();
    let fresh = store
        .cached_contacts(vec!["1".into(), "2".into(), "3".into()], 150)
        .await
        .unwrap();
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh.get("1"), Some(&true));
    let all = store
        .cached_contacts(vec!["1".into(), "2".into()], 0)
        .await
        .unwrap();
    assert_eq!(all.get("2"), Some(&false));
}

async fn one_open_conversation_per_recipient(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let conv = |id: &str, expires_at| Conversation {
        id: id.into(),
        origin: "business_initiated".into(),
        expires_at,
    };
    let (first, opened) = store
        .open_conversation("1", 100, conv("c1", 200))
        .await
        .unwrap();
    assert!(opened);
    let (same, opened) = store
        .open_conversation("1", 150, conv("c2", 250))
        .await
        .unwrap();
    assert!(!opened);
    assert_eq!(same, first);
    let (next, opened) = store
        .open_conversation("1", 200, conv("c3", 300))
        .await
        .unwrap();
    assert!(opened);
    assert_eq!(next.id, "c3");
}

/// Writers opening one recipient's conversation at once (a send's `sent` and its phone's
/// `delivered`) all succeed and name the same conversation, which exactly one of them opened.
async fn racing_opens_agree_on_one_conversation(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    for round in 0..10 {
        let recipient = format!("1555000{round}");
        let racers: Vec<_> = (0..6)
            .map(|i| {
                let (store, recipient) = (store.clone(), recipient.clone());
                let candidate = Conversation {
                    id: format!("c{round}-{i}"),
                    origin: "business_initiated".into(),
                    expires_at: 1_000,
                };
                tokio::spawn(
                    async move { store.open_conversation(&recipient, 10, candidate).await },
                )
            })
            .collect();
        let mut answers = Vec::new();
        for racer in racers {
            answers.push(
                racer
                    .await
                    .unwrap()
                    .expect("every racer gets the open conversation"),
            );
        }
        let opened = answers.iter().filter(|(_, opened)| *opened).count();
        assert_eq!(opened, 1, "round {round}: {answers:?}");
        assert!(
            answers.iter().all(|(c, _)| c.id == answers[0].0.id),
            "round {round}: {answers:?}"
        );
    }
}

async fn callback_outbox_schedules_and_deletes(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    assert!(store.enqueue_callback(callback("a")).await.unwrap());
    assert!(!store.enqueue_callback(callback("a")).await.unwrap());
    assert!(store.enqueue_callback(callback("b")).await.unwrap());
    let far_future = i64::MAX / 2;
    let due = store
        .due_callbacks(
            wa_api::webhooks::WebhookTarget::OnPrem,
            far_future,
            10,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(due.len(), 2);
    let (a, b) = (due[0].id, due[1].id);
    assert_eq!(due[0].body, "{\"key\":\"a\"}");
    assert_eq!(
        store
            .due_callbacks(
                wa_api::webhooks::WebhookTarget::OnPrem,
                far_future,
                10,
                vec![a]
            )
            .await
            .unwrap()
            .len(),
        1
    );
    store
        .reschedule_callback(a, 1, far_future + 1, "HTTP 500".into())
        .await
        .unwrap();
    let due = store
        .due_callbacks(
            wa_api::webhooks::WebhookTarget::OnPrem,
            far_future,
            10,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(due.iter().map(|c| c.id).collect::<Vec<_>>(), [b]);
    store.delete_callback(b).await.unwrap();
    assert_eq!(store.pending_callback_count().await.unwrap(), 1);
    let later = store
        .due_callbacks(
            wa_api::webhooks::WebhookTarget::OnPrem,
            far_future + 1,
            10,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(later[0].attempts, 1);
}
