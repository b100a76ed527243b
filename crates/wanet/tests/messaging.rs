#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{test_config, Net, BUSINESS, CONSUMER};
use serde_json::json;
use wa_netproto::{ContactResult, Push, ReceiptStatus, Request, Response};

#[tokio::test]
async fn contacts_are_users_unless_marked_not_on_whatsapp() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let (status, created) = net
        .post(
            "/control/consumers",
            json!({ "wa_id": "447400900123", "profile": "not_on_whatsapp" }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["profile"], "not_on_whatsapp");
    assert_eq!(created["name"], "WhatsApp User 0123");

    let mut session = net.business_session(&credentials).await;
    let wa_ids = vec![
        "+1 631-555-1234".into(),
        "447400900123".into(),
        "12345".into(),
    ];
    let response = session
        .request(Request::CheckContacts { wa_ids })
        .await
        .unwrap();
    let Response::Contacts { results } = response else {
        panic!("{response:?}")
    };
    assert_eq!(
        results,
        vec![
            ContactResult {
                wa_id: CONSUMER.into(),
                on_whatsapp: true
            },
            ContactResult {
                wa_id: "447400900123".into(),
                on_whatsapp: false
            },
            ContactResult {
                wa_id: "12345".into(),
                on_whatsapp: false
            },
        ]
    );
}

#[tokio::test]
async fn a_free_form_message_outside_the_window_fails_with_470() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;

    let accepted = session
        .send_text("gBGGtest470", CONSUMER, "hello?")
        .await
        .unwrap();
    assert!(
        matches!(
            accepted,
            Response::Accepted {
                duplicate: false,
                ..
            }
        ),
        "{accepted:?}"
    );
    let (status, error) = session.receipt_for("gBGGtest470").await;
    assert_eq!(status, ReceiptStatus::Failed);
    let error = error.unwrap();
    assert_eq!(
        (error.code, error.title.as_str()),
        (470, "Re-engagement message")
    );
    assert!(error.details.unwrap().contains("more than 24 hours"));
    assert_eq!(net.consumer(CONSUMER).await["received_count"], 0);

    // Templates are what a business may send outside the window.
    let Response::Templates { templates } = session.request(Request::GetTemplates).await.unwrap()
    else {
        panic!("templates expected");
    };
    let namespace = templates[0]["namespace"].clone();
    let template = Request::SendMessage {
        id: "gBGGtemplate".into(),
        to: CONSUMER.into(),
        message: json!({ "type": "template", "template": { "name": "hello_world", "namespace": namespace,
            "language": { "policy": "deterministic", "code": "en_US" } } }),
    };
    session.request(template).await.unwrap();
    assert_eq!(
        session.receipt_for("gBGGtemplate").await.0,
        ReceiptStatus::Delivered
    );
}

#[tokio::test]
async fn a_window_of_zero_seconds_is_always_closed() {
    let net = Net::start_with(wanet::WanetConfig {
        window_secs: 0,
        ..test_config()
    })
    .await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    net.consumer_says(CONSUMER, "hi").await;
    session.next_push_acked().await;
    session
        .send_text("gBGGzero", CONSUMER, "too late")
        .await
        .unwrap();
    let (_, error) = session.receipt_for("gBGGzero").await;
    assert_eq!(error.unwrap().code, 470);
}

#[tokio::test]
async fn a_consumer_message_opens_the_window_then_receipts_follow() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let (status, _) = net
        .post(
            "/control/consumers",
            json!({ "wa_id": CONSUMER, "name": "Kerry Fisher" }),
        )
        .await;
    assert_eq!(status, 201);
    let mut session = net.business_session(&credentials).await;

    let inbound_id = net.consumer_says(CONSUMER, "Hello this is an answer").await;
    assert!(inbound_id.starts_with("ABGG"), "{inbound_id}");
    match session.next_push_acked().await {
        Push::Inbound {
            id,
            from,
            profile_name,
            message,
            timestamp,
        } => {
            assert_eq!(id, inbound_id);
            assert_eq!(from, CONSUMER);
            assert_eq!(profile_name, "Kerry Fisher");
            // Every message names its sender's current identity.
            let identity = &message["identity"];
            assert!(identity["hash"].as_str().is_some_and(|h| !h.is_empty()));
            assert!(identity["created_timestamp"].as_i64().unwrap() > 1_600_000_000_000);
            assert_eq!(
                message,
                json!({ "type": "text", "text": { "body": "Hello this is an answer" },
                        "identity": identity })
            );
            assert!(timestamp > 1_600_000_000);
        }
        other => panic!("expected an inbound message, got {other:?}"),
    }

    session
        .send_text("gBGGreply", CONSUMER, "Hi Kerry")
        .await
        .unwrap();
    let mut statuses = Vec::new();
    while statuses.len() < 2 {
        if let Push::Receipt {
            message_id,
            recipient,
            status,
            error,
            ..
        } = session.next_push_acked().await
        {
            assert_eq!(
                (message_id.as_str(), recipient.as_str(), error),
                ("gBGGreply", CONSUMER, None)
            );
            statuses.push(status);
        }
    }
    assert_eq!(
        statuses,
        vec![ReceiptStatus::Delivered, ReceiptStatus::Read]
    );

    let phone = net.consumer(CONSUMER).await;
    assert_eq!(phone["received_count"], 1);
    assert_eq!(phone["received"][0]["id"], "gBGGreply");
    assert_eq!(phone["received"][0]["type"], "text");
    assert_eq!(phone["received"][0]["message"]["text"]["body"], "Hi Kerry");
    // The ticks the phone shows and who sent it, and the consumer's own message beside it.
    assert_eq!(phone["received"][0]["status"], "read");
    assert_eq!(phone["received"][0]["business"], BUSINESS);
    assert_eq!(phone["sent"][0]["to"], BUSINESS);
    assert_eq!(phone["sent"][0]["type"], "text");
    assert_eq!(
        phone["sent"][0]["message"]["text"]["body"],
        "Hello this is an answer"
    );
    let (status, list) = net.get("/control/consumers").await;
    assert_eq!(status, 200);
    let listed = &list["consumers"][0];
    assert_eq!(
        (
            &listed["wa_id"],
            &listed["received_count"],
            &listed["sent_count"]
        ),
        (&json!(CONSUMER), &json!(1), &json!(1))
    );
}

#[tokio::test]
async fn a_phone_that_never_reads_sends_only_delivered() {
    let config = wanet::WanetConfig {
        read_probability: 0.0,
        ..test_config()
    };
    let net = Net::start_with(config).await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    net.consumer_says(CONSUMER, "hi").await;
    session.next_push_acked().await;
    for n in 0..4 {
        session
            .send_text(&format!("gBGGunread{n}"), CONSUMER, "hey")
            .await
            .unwrap();
    }
    // Every receipt up to the last message's `delivered` (timers may reorder the first ones).
    let mut delivered = std::collections::BTreeSet::new();
    while !delivered.contains("gBGGunread3") {
        let push = session.next_push_acked().await;
        let Push::Receipt {
            status, message_id, ..
        } = push
        else {
            panic!("{push:?}")
        };
        assert_eq!(status, ReceiptStatus::Delivered, "{message_id}");
        delivered.insert(message_id);
    }
}

#[tokio::test]
async fn a_resent_message_id_is_accepted_once_and_delivered_once() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    net.consumer_says(CONSUMER, "hi").await;
    session.next_push_acked().await;

    let first = session
        .send_text("gBGGdup", CONSUMER, "once")
        .await
        .unwrap();
    let again = session
        .send_text("gBGGdup", CONSUMER, "once")
        .await
        .unwrap();
    let (
        Response::Accepted {
            duplicate: false,
            timestamp: t1,
            ..
        },
        Response::Accepted {
            duplicate: true,
            timestamp: t2,
            id,
        },
    ) = (first, again)
    else {
        panic!("expected Accepted twice");
    };
    assert_eq!((t1, id.as_str()), (t2, "gBGGdup"));
    assert_eq!(
        session.receipt_for("gBGGdup").await.0,
        ReceiptStatus::Delivered
    );
    assert_eq!(session.receipt_for("gBGGdup").await.0, ReceiptStatus::Read);

    // A re-send after a reconnect (the coreapp crashed before recording `sent`) is a duplicate too.
    drop(session);
    let mut session = net.business_session(&credentials).await;
    let third = session
        .send_text("gBGGdup", CONSUMER, "once")
        .await
        .unwrap();
    assert!(matches!(
        third,
        Response::Accepted {
            duplicate: true,
            ..
        }
    ));

    assert_eq!(net.consumer(CONSUMER).await["received_count"], 1);
    let business = net.business(BUSINESS).await;
    assert_eq!(business["accepted_messages"], 1);
    assert_eq!(business["duplicate_sends"], 2);
}

#[tokio::test]
async fn a_recipient_not_on_whatsapp_fails_with_1013() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    net.post(
        "/control/consumers",
        json!({ "wa_id": "447400900123", "profile": "not_on_whatsapp" }),
    )
    .await;
    let mut session = net.business_session(&credentials).await;
    for (id, to) in [("gBGGnobody", "447400900123"), ("gBGGmalformed", "12")] {
        session.send_text(id, to, "hello").await.unwrap();
        let (status, error) = session.receipt_for(id).await;
        assert_eq!(status, ReceiptStatus::Failed);
        let error = error.unwrap();
        assert_eq!(
            (error.code, error.title.as_str()),
            (1013, "User is not valid")
        );
    }
}

#[tokio::test]
async fn a_read_receipt_lands_on_the_consumers_phone() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    let inbound = net.consumer_says(CONSUMER, "did you read this?").await;
    session.next_push_acked().await;

    let done = session
        .request(Request::ReadReceipt {
            message_id: inbound.clone(),
            to: CONSUMER.into(),
        })
        .await
        .unwrap();
    assert_eq!(done, Response::Done);
    assert_eq!(
        net.consumer(CONSUMER).await["read_receipts"],
        json!([inbound])
    );
}

#[tokio::test]
async fn every_business_starts_with_seeded_templates() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    let Response::Templates { templates } = session.request(Request::GetTemplates).await.unwrap()
    else {
        panic!("templates expected");
    };
    assert!(templates.len() >= 8, "{templates:?}");
    assert!(templates
        .iter()
        .all(|t| t["namespace"] == templates[0]["namespace"]));
    assert!(templates
        .iter()
        .any(|t| t["name"] == "hello_world" && t["status"] == "APPROVED"));
}
