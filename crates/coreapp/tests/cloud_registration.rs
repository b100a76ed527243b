//! The internal calls behind Cloud's `/register` and `/deregister`, in process on a fresh
//! database of every backend: deregistering keeps the credentials and marks the number; register
//! sets the two-step PIN when there is none, else wants the same one (1005, which the webapp
//! answers as 133005), and clears the mark. Reconnecting is the lifecycle's (e2e `cloud_api`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::test_app::TestApp;
use serde_json::json;
use wa_api::keys::TWO_STEP_PIN;
use wa_store::{Backend, Registration};

on_every_backend!(
    deregister_keeps_the_credentials_and_register_clears_the_mark,
    register_sets_a_missing_pin_and_checks_a_stored_one,
    register_checks_its_body,
    both_need_a_registered_number,
);

const PATH: &str = "/rpc/cloud/registration";

async fn registered(backend: Backend) -> TestApp {
    let app = TestApp::on(backend).await;
    let registration = Registration {
        phone: "16315550000".to_string(),
        vname: "Shop".to_string(),
        secret: "s".to_string(),
        registered_at: 1,
        deregistered_at: None,
    };
    app.store().save_registration(registration).await.unwrap();
    app
}

async fn deregistered_at(app: &TestApp) -> Option<i64> {
    app.store()
        .registration()
        .await
        .unwrap()
        .unwrap()
        .deregistered_at
}

async fn deregister_keeps_the_credentials_and_register_clears_the_mark(backend: Backend) {
    let app = registered(backend).await;
    app.delete(PATH).await.expect_status(200);
    let first = deregistered_at(&app).await;
    assert!(first.is_some());
    // Again: still deregistered since the first time.
    app.delete(PATH).await.expect_status(200);
    assert_eq!(deregistered_at(&app).await, first);
    let kept = app.store().registration().await.unwrap().unwrap();
    assert_eq!(
        (kept.phone.as_str(), kept.secret.as_str()),
        ("16315550000", "s")
    );

    app.post(PATH, json!({"pin": "123456"}))
        .await
        .expect_status(200);
    assert_eq!(deregistered_at(&app).await, None);
    // Registering a registered number changes nothing.
    app.post(PATH, json!({"pin": "123456"}))
        .await
        .expect_status(200);
    assert_eq!(deregistered_at(&app).await, None);
}

async fn register_sets_a_missing_pin_and_checks_a_stored_one(backend: Backend) {
    let app = registered(backend).await;
    let stored = || async { app.store().get_config_value(TWO_STEP_PIN).await.unwrap() };
    assert_eq!(stored().await, None);
    app.post(PATH, json!({"pin": "246810"}))
        .await
        .expect_status(200);
    assert_eq!(stored().await.as_deref(), Some("246810"));

    app.delete(PATH).await.expect_status(200);
    let wrong = app.post(PATH, json!({"pin": "000000"})).await;
    let wrong = wrong.expect_error(403, 1005);
    assert!(
        wrong.details().contains("incorrect_two_step_pin"),
        "{}",
        wrong.body
    );
    assert!(
        deregistered_at(&app).await.is_some(),
        "a wrong PIN registers nothing"
    );
    assert_eq!(stored().await.as_deref(), Some("246810"));
    app.post(PATH, json!({"pin": "246810"}))
        .await
        .expect_status(200);
    assert_eq!(deregistered_at(&app).await, None);
}

async fn register_checks_its_body(backend: Backend) {
    let app = registered(backend).await;
    for (body, code) in [
        (json!({}), 1008),
        (json!({"pin": 123456}), 1009),
        (json!({"pin": "12345"}), 1009),
        (json!({"pin": "abcdef"}), 1009),
    ] {
        app.post(PATH, body).await.expect_error(400, code);
    }
    app.call_raw(actix_web::http::Method::POST, PATH, "{\"pin\":")
        .await
        .expect_error(400, 1025);
    assert_eq!(
        app.store().get_config_value(TWO_STEP_PIN).await.unwrap(),
        None
    );
}

async fn both_need_a_registered_number(backend: Backend) {
    let app = TestApp::on(backend).await;
    app.delete(PATH).await.expect_error(400, 1009);
    app.post(PATH, json!({"pin": "123456"}))
        .await
        .expect_error(400, 1009);
}
