//! The console's calls to the simulated network (`/console/webhooks`, and the Phones page's
//! `/console/consumers` and `/console/media`): administrators only, 404/1006 when no network is
//! configured, and the control API's answers relayed, its refusals in the API's error shape.
//! The real simulator runs in process for the answers that are relayed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use serde_json::json;
use wa_store::Backend;

/// Every console route that reaches the network, as (method, path, JSON body).
const ROUTES: [(&str, &str, Option<&str>); 6] = [
    ("GET", "/console/webhooks", None),
    ("GET", "/console/consumers", None),
    (
        "POST",
        "/console/consumers",
        Some(r#"{"wa_id": "447400900999"}"#),
    ),
    ("GET", "/console/consumers/447400900999", None),
    (
        "POST",
        "/console/consumers/447400900999/messages",
        Some(r#"{"type": "text", "text": {"body": "hi"}}"#),
    ),
    ("GET", "/console/media/abc", None),
];

/// The simulated network, in process, with its control API on a free loopback port.
async fn simulator() -> (wanet::RunningWanet, String) {
    let wanet = wanet::start(wanet::WanetConfig {
        listen: "127.0.0.1:0".into(),
        control_listen: "127.0.0.1:0".into(),
        ..wanet::WanetConfig::default()
    })
    .await
    .unwrap();
    let url = format!("http://{}/", wanet.control_addr);
    (wanet, url)
}

async fn call(
    app: &TestApp,
    auth: &str,
    (method, path, body): (&str, &str, Option<&str>),
) -> common::Reply {
    app.call(
        method,
        path,
        Some(auth),
        body.map(|b| serde_json::from_str(b).unwrap()),
    )
    .await
}

#[actix_web::test]
async fn only_admins_and_only_with_a_network() {
    let app = TestApp::on(Backend::Sqlite).await;
    let admin = app.first_login().await;
    app.json_post(
        &admin,
        "/v1/users",
        r#"{"username": "operator", "password": "Operator-Pass-1!"}"#,
    )
    .await
    .expect_status(201);
    let user = app.bearer("operator", "Operator-Pass-1!").await;
    for route in ROUTES {
        call(&app, &user, route).await.expect_error(403, 1005);
        let reply = call(&app, &admin, route).await;
        reply.expect_error(404, 1006);
        assert!(reply.details().contains("network_control_url"), "{route:?}");
        app.call(route.0, route.1, None, None)
            .await
            .expect_error(401, 1005);
    }
}

#[actix_web::test]
async fn answers_are_relayed_and_refusals_are_api_errors() {
    let (wanet, url) = simulator().await;
    let app = TestApp::with(Backend::Sqlite, |s| {
        s.webapp.network_control_url = Some(url.clone());
    })
    .await;
    let admin = app.first_login().await;
    let created = call(&app, &admin, ROUTES[2]).await;
    created.expect_status(201);
    assert_eq!(created.body["wa_id"], "447400900999");
    let listed = call(&app, &admin, ROUTES[1]).await;
    listed.expect_status(200);
    let listed_ids: Vec<&serde_json::Value> = listed.body["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["wa_id"])
        .collect();
    assert_eq!(listed_ids, [&json!("447400900999")]);
    let one = call(&app, &admin, ROUTES[3]).await;
    one.expect_status(200);
    assert_eq!(one.body["wa_id"], "447400900999");
    // The simulator refuses a message while no business is registered: its 400 in the API's shape.
    let refused = call(&app, &admin, ROUTES[4]).await;
    refused.expect_error(400, 1009);
    assert!(!refused.details().is_empty());

    // Media the simulator holds, as it holds it.
    let upload = reqwest::Client::new()
        .post(format!("{url}control/media"))
        .header("Content-Type", "image/png")
        .body(&b"PNG bytes"[..])
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 201);
    let id = upload.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (media, bytes) = app
        .send_raw(
            app.request("GET", &format!("/console/media/{id}"))
                .insert_header(("Authorization", admin.as_str())),
        )
        .await;
    assert_eq!((media.status, bytes.as_slice()), (200, &b"PNG bytes"[..]));
    assert_eq!(media.headers.get("content-type").unwrap(), "image/png");
    assert_eq!(
        media.headers.get("x-content-type-options").unwrap(),
        "nosniff"
    );
    let policy = media.headers.get("content-security-policy").unwrap();
    assert!(policy.to_str().unwrap().contains("sandbox"), "{policy:?}");
    call(&app, &admin, ("GET", "/console/media/gone", None))
        .await
        .expect_error(404, 1006);

    // Bad input is refused by the webapp itself, never passed on as another control path.
    for (method, path, body) in [
        ("GET", "/console/consumers/..%2Fwebhooks", None),
        ("GET", "/console/consumers/12ab", None),
        ("GET", "/console/media/a%2Fb", None),
    ] {
        let reply = call(&app, &admin, (method, path, body)).await;
        assert!(!reply.details().contains("control"), "{}", reply.body);
        reply.expect_error(400, 1009);
    }
    app.json_post(&admin, "/console/consumers", "[1, 2]")
        .await
        .expect_error(400, 1025);
    app.json_post(&admin, "/console/consumers/447400900999/messages", "{")
        .await
        .expect_error(400, 1025);
    wanet.stop().await.unwrap();
}
