#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{test_config, Client, Net, CONSUMER};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use wa_netproto::{Frame, Push, Request, Response};

#[tokio::test]
async fn an_anonymous_session_may_only_register() {
    let net = Net::start().await;
    net.register_business().await;
    let mut client = net.connect().await;
    // Before any Hello, and after an anonymous one.
    let err = client
        .send_text("gBGGanon", CONSUMER, "hi")
        .await
        .unwrap_err();
    assert_eq!((err.code, err.title.as_str()), (1005, "Access denied"));
    client.hello(None).await.unwrap();
    let forbidden = [
        Request::SendMessage {
            id: "gBGGanon".into(),
            to: CONSUMER.into(),
            message: serde_json::json!({"type": "text"}),
        },
        Request::GetTemplates,
        Request::CheckContacts {
            wa_ids: vec![CONSUMER.into()],
        },
        Request::ReadReceipt {
            message_id: "ABGGx".into(),
            to: CONSUMER.into(),
        },
    ];
    for request in forbidden {
        assert_eq!(client.request(request).await.unwrap_err().code, 1005);
    }
    assert_eq!(net.business(common::BUSINESS).await["accepted_messages"], 0);
}

#[tokio::test]
async fn an_authenticated_session_cannot_say_hello_twice() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    assert_eq!(
        session.hello(Some(credentials)).await.unwrap_err().code,
        1005
    );
    // The session itself is still fine.
    assert_eq!(session.ping(5).await, 5);
}

#[tokio::test]
async fn pings_are_answered_with_the_same_nonce() {
    let net = Net::start().await;
    let mut client = net.connect().await;
    assert_eq!(client.ping(42).await, 42);
    assert_eq!(client.ping(u64::MAX).await, u64::MAX);
}

#[tokio::test]
async fn a_garbage_frame_closes_that_connection_only() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut bystander = net.business_session(&credentials).await;

    let mut client = net.connect().await;
    client.send_garbage().await;
    client.wait_closed().await;

    // A server-only frame from a client is a protocol violation too.
    let mut client = net.connect().await;
    client
        .send(Frame::Push {
            id: 1,
            push: Push::BacklogDone,
        })
        .await;
    client.wait_closed().await;

    // Junk instead of a TLS handshake.
    let mut tcp = tokio::net::TcpStream::connect(net.wanet.protocol_addr)
        .await
        .unwrap();
    tcp.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();

    let (status, _) = net.get("/control/health").await;
    assert_eq!(status, 200);
    assert_eq!(bystander.ping(7).await, 7);
    let mut fresh = net.connect().await;
    assert_eq!(
        fresh.hello(None).await.unwrap(),
        Response::Welcome {
            business: None,
            backlog: 0
        }
    );
}

#[tokio::test]
async fn stopping_closes_sessions_and_listeners() {
    let net = Net::start().await;
    let mut client = net.connect().await;
    client.hello(None).await.unwrap();
    let protocol_addr = net.wanet.protocol_addr;
    tokio::time::timeout(common::WAIT, net.wanet.handle().stop())
        .await
        .unwrap();
    client.wait_closed().await;
    assert!(tokio::net::TcpStream::connect(protocol_addr).await.is_err());
}

/// The one-process launcher runs wanet inside an actix System (`#[actix_web::main]`).
#[actix_web::test]
async fn it_runs_inside_an_actix_system() {
    let wanet = wanet::start(test_config()).await.unwrap();
    let mut client = Client::connect(&wanet).await;
    assert_eq!(
        client.hello(None).await.unwrap(),
        Response::Welcome {
            business: None,
            backlog: 0
        }
    );
    let health = reqwest::get(format!("http://{}/control/health", wanet.control_addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(health, r#"{"status":"ok"}"#);
    tokio::time::timeout(Duration::from_secs(15), wanet.stop())
        .await
        .unwrap()
        .unwrap();
}
