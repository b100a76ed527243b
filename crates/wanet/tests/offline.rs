#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Net, BUSINESS, CONSUMER, WAIT};
use serde_json::json;
use wa_netproto::{Push, ReceiptStatus, Response};

fn inbound_id(push: &Push) -> &str {
    match push {
        Push::Inbound { id, .. } => id,
        other => panic!("expected an inbound message, got {other:?}"),
    }
}

fn inbound_body(push: &Push) -> &str {
    match push {
        Push::Inbound { message, .. } => message["text"]["body"].as_str().unwrap(),
        other => panic!("expected an inbound message, got {other:?}"),
    }
}

/// Polls the control API until the business is offline with `n` pushes waiting (the deadline is
/// a failure guard, not a timing).
async fn wait_offline_with(net: &Net, n: u64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let business = net.business(BUSINESS).await;
        if business["connected"] == false && business["queued_pushes"] == n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never got {n} queued pushes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn pushes_stored_while_offline_come_on_the_next_hello_then_backlog_done() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    net.consumer_says(CONSUMER, "open the window").await;
    session.next_push_acked().await;
    session
        .send_text("gBGGwhileaway", CONSUMER, "bye")
        .await
        .unwrap();
    drop(session);

    let sent: Vec<String> = vec![
        net.consumer_says(CONSUMER, "one").await,
        net.consumer_says(CONSUMER, "two").await,
    ];
    // Both receipts of the message sent before the cut, and both inbound messages.
    wait_offline_with(&net, 4).await;

    let mut session = net.connect().await;
    let welcome = session.hello(Some(credentials)).await.unwrap();
    assert_eq!(
        welcome,
        Response::Welcome {
            business: Some(BUSINESS.into()),
            backlog: 4
        }
    );
    let backlog = session.drain_backlog().await;
    let inbound: Vec<&str> = backlog
        .iter()
        .filter(|p| matches!(p, Push::Inbound { .. }))
        .map(inbound_id)
        .collect();
    assert_eq!(inbound, sent);
    let receipts: Vec<ReceiptStatus> = backlog
        .iter()
        .filter_map(|p| match p {
            Push::Receipt {
                message_id, status, ..
            } if message_id == "gBGGwhileaway" => Some(*status),
            _ => None,
        })
        .collect();
    assert_eq!(
        receipts,
        vec![ReceiptStatus::Delivered, ReceiptStatus::Read]
    );

    // Pushes after the backlog come live, not as backlog.
    let live = net.consumer_says(CONSUMER, "live").await;
    assert_eq!(inbound_id(&session.next_push_acked().await), live);
}

#[tokio::test]
async fn an_unacked_push_is_sent_again_after_a_crash_in_its_original_order() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    let a = net.consumer_says(CONSUMER, "a").await;
    let b = net.consumer_says(CONSUMER, "b").await;
    assert_eq!(inbound_id(&session.next_push_acked().await), a);
    // `b` arrives but the client crashes before persisting (acking) it.
    let (_, unacked) = session.next_push().await;
    assert_eq!(inbound_id(&unacked), b);
    // The server handles frames in order: once it answered the ping, it has seen the ack of `a`.
    session.ping(1).await;
    assert_eq!(net.business(BUSINESS).await["unacked_pushes"], 1);
    drop(session);
    let c = net.consumer_says(CONSUMER, "c").await;

    let mut session = net.connect().await;
    let welcome = session.hello(Some(credentials.clone())).await.unwrap();
    assert_eq!(
        welcome,
        Response::Welcome {
            business: Some(BUSINESS.into()),
            backlog: 2
        }
    );
    let backlog = session.drain_backlog().await;
    let ids: Vec<&str> = backlog.iter().map(inbound_id).collect();
    assert_eq!(ids, vec![b.as_str(), c.as_str()]);
    drop(session);

    // Everything was acked: nothing comes a third time.
    let mut session = net.connect().await;
    let welcome = session.hello(Some(credentials)).await.unwrap();
    assert_eq!(
        welcome,
        Response::Welcome {
            business: Some(BUSINESS.into()),
            backlog: 0
        }
    );
    assert!(session.drain_backlog().await.is_empty());
}

#[tokio::test]
async fn a_new_session_replaces_the_old_one_and_takes_over_its_unacked_pushes() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut old = net.business_session(&credentials).await;
    let id = net.consumer_says(CONSUMER, "who gets me?").await;
    let (_, push) = old.next_push().await;
    assert_eq!(inbound_id(&push), id);

    let mut new = net.connect().await;
    let welcome = new.hello(Some(credentials)).await.unwrap();
    assert_eq!(
        welcome,
        Response::Welcome {
            business: Some(BUSINESS.into()),
            backlog: 1
        }
    );
    old.wait_closed().await;
    let backlog = new.drain_backlog().await;
    assert_eq!(
        backlog.iter().map(inbound_id).collect::<Vec<_>>(),
        vec![id.as_str()]
    );
    assert_eq!(net.business(BUSINESS).await["connected"], true);
}

#[tokio::test]
async fn a_burst_of_1000_arrives_complete_and_in_order_offline_and_live() {
    let net = Net::start().await;
    let credentials = net.register_business().await;

    let (status, body) = net
        .post(
            &format!("/control/consumers/{CONSUMER}/burst"),
            json!({ "count": 1000 }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let offline: Vec<String> = serde_json::from_value(body["ids"].clone()).unwrap();
    assert_eq!(offline.len(), 1000);

    let mut session = net.connect().await;
    let welcome = session.hello(Some(credentials)).await.unwrap();
    assert_eq!(
        welcome,
        Response::Welcome {
            business: Some(BUSINESS.into()),
            backlog: 1000
        }
    );
    let backlog = session.drain_backlog().await;
    assert_eq!(backlog.iter().map(inbound_id).collect::<Vec<_>>(), offline);
    assert_eq!(inbound_body(&backlog[0]), "load 1");
    assert_eq!(inbound_body(&backlog[999]), "load 1000");

    let (status, body) = net
        .post(
            &format!("/control/consumers/{CONSUMER}/burst"),
            json!({ "count": 1000, "to": BUSINESS, "body_prefix": "live" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let live: Vec<String> = serde_json::from_value(body["ids"].clone()).unwrap();
    let mut received = Vec::new();
    while received.len() < 1000 {
        let push = session.next_push_acked().await;
        assert_eq!(inbound_body(&push), format!("live {}", received.len() + 1));
        received.push(inbound_id(&push).to_string());
    }
    assert_eq!(received, live);
    let business = net.business(BUSINESS).await;
    assert_eq!(business["queued_pushes"], 0);
}
