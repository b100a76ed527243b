#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Net, BUSINESS, BUSINESS_CC, BUSINESS_NUMBER};
use wa_netproto::{Credentials, Response};

#[tokio::test]
async fn the_code_flow_issues_credentials_that_open_a_business_session() {
    let net = Net::start().await;
    let cert = net.mint_cert("Acme Inc").await;
    let mut client = net.connect().await;
    let welcome = client.hello(None).await.unwrap();
    assert_eq!(
        welcome,
        Response::Welcome {
            business: None,
            backlog: 0
        }
    );

    let sent = client
        .request_code(BUSINESS_CC, "555-000 1111", "voice", &cert)
        .await
        .unwrap();
    assert_eq!(
        sent,
        Response::CodeSent {
            vname: "Acme Inc".into()
        }
    );
    let (status, code) = net.get(&format!("/control/codes/{BUSINESS}")).await;
    assert_eq!(status, 200);
    assert_eq!(code["phone"], BUSINESS);
    assert_eq!(code["method"], "voice");
    let code = code["code"].as_str().unwrap().to_string();

    // The dashed form people copy from an SMS is accepted too.
    let dashed = format!("{}-{}", &code[..3], &code[3..]);
    let registered = client
        .register(BUSINESS_CC, BUSINESS_NUMBER, &dashed)
        .await
        .unwrap();
    let Response::Registered { vname, credentials } = registered else {
        panic!("expected Registered, got {registered:?}");
    };
    assert_eq!(vname, "Acme Inc");
    assert_eq!(credentials.phone, BUSINESS);
    assert_eq!(credentials.secret.len(), 32);

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
    let business = net.business(BUSINESS).await;
    assert_eq!(business["vname"], "Acme Inc");
    assert_eq!(business["connected"], true);
}

#[tokio::test]
async fn a_wrong_or_missing_code_is_refused() {
    let net = Net::start().await;
    let cert = net.mint_cert("Acme Inc").await;
    let mut client = net.connect().await;

    let never_requested = client
        .register(BUSINESS_CC, BUSINESS_NUMBER, "123456")
        .await;
    let err = never_requested.unwrap_err();
    assert_eq!(err.code, 1005);
    assert_eq!(err.title, "Access denied");
    assert_eq!(
        err.details.as_deref(),
        Some("Registration failed for reason 'incorrect_code'.")
    );

    client
        .request_code(BUSINESS_CC, BUSINESS_NUMBER, "sms", &cert)
        .await
        .unwrap();
    let code = net.code(BUSINESS).await;
    let wrong = if code == "111111" { "222222" } else { "111111" };
    let err = client
        .register(BUSINESS_CC, BUSINESS_NUMBER, wrong)
        .await
        .unwrap_err();
    assert_eq!(err.code, 1005);

    // A wrong guess does not burn the right code.
    let ok = client.register(BUSINESS_CC, BUSINESS_NUMBER, &code).await;
    assert!(matches!(ok, Ok(Response::Registered { .. })), "{ok:?}");
}

#[tokio::test]
async fn a_bad_method_or_number_is_an_invalid_parameter() {
    let net = Net::start().await;
    let cert = net.mint_cert("Acme Inc").await;
    let mut client = net.connect().await;

    let err = client
        .request_code(BUSINESS_CC, BUSINESS_NUMBER, "fax", &cert)
        .await
        .unwrap_err();
    assert_eq!(err.code, 1009);
    assert!(err.details.unwrap().contains("sms"));

    let err = client
        .request_code("1234", BUSINESS_NUMBER, "sms", &cert)
        .await
        .unwrap_err();
    assert_eq!(err.code, 1009);
    let err = client
        .request_code(BUSINESS_CC, "555abc1111", "sms", &cert)
        .await
        .unwrap_err();
    assert_eq!(err.code, 1009);
    let (status, body) = net.get(&format!("/control/codes/{BUSINESS}")).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "no code requested");
}

#[tokio::test]
async fn a_certificate_wanet_did_not_mint_is_refused() {
    let net = Net::start().await;
    let other = Net::start().await;
    let foreign = other.mint_cert("Acme Inc").await;
    let mut client = net.connect().await;
    for cert in [foreign.as_str(), "bm90IGEgY2VydA==", ""] {
        let err = client
            .request_code(BUSINESS_CC, BUSINESS_NUMBER, "sms", cert)
            .await
            .unwrap_err();
        assert_eq!(err.code, 1005);
        assert_eq!(
            err.details.as_deref(),
            Some("Registration failed for reason 'invalid_cert'.")
        );
    }
}

#[tokio::test]
async fn bad_credentials_are_denied_and_re_registering_revokes_the_old_ones() {
    let net = Net::start().await;
    let first = net.register_business().await;

    let mut client = net.connect().await;
    let forged = Credentials {
        phone: BUSINESS.into(),
        secret: "0".repeat(32),
    };
    let err = client.hello(Some(forged)).await.unwrap_err();
    assert_eq!((err.code, err.title.as_str()), (1005, "Access denied"));
    assert_eq!(err.details.as_deref(), Some("invalid credentials"));

    let mut old_session = net.business_session(&first).await;
    let second = net.register_business().await;
    assert_ne!(first.secret, second.secret);
    // The session opened with the revoked secret is closed, and the secret no longer works.
    old_session.wait_closed().await;
    let mut client = net.connect().await;
    assert_eq!(client.hello(Some(first)).await.unwrap_err().code, 1005);
    let mut client = net.connect().await;
    assert!(client.hello(Some(second)).await.is_ok());
}
