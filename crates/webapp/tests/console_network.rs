//! The console's calls to the simulated network (`/console/webhooks`, and the Phones page's
//! `/console/consumers` and `/console/media`): administrators only, 404/1006 when no network is
//! configured, and the control API's answers relayed, its refusals in the API's error shape.
//! A stand-in control API on a loopback port answers as the simulator's does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
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

/// A control API answering each request line it knows; the request lines it got.
fn stand_in() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let mut length = 0;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header.trim().is_empty() {
                    break;
                }
                if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let request = line.trim().trim_end_matches(" HTTP/1.1").to_string();
            log.lock().unwrap().push(request.clone());
            let (status, content_type, answer) = match request.as_str() {
                "POST /control/consumers/447400900999/messages" => (
                    "400 Bad Request",
                    "application/json",
                    json!({"error": "unknown message type"}).to_string(),
                ),
                "GET /control/media/abc/bytes" => ("200 OK", "image/png", "PNG".to_string()),
                "GET /control/media/gone/bytes" => (
                    "404 Not Found",
                    "application/json",
                    json!({"error": "no media 'gone'"}).to_string(),
                ),
                "POST /control/consumers" => (
                    "201 Created",
                    "application/json",
                    String::from_utf8(body).unwrap(),
                ),
                _ => (
                    "200 OK",
                    "application/json",
                    json!({"answered": request}).to_string(),
                ),
            };
            let reply = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    (url, seen)
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
    let (url, seen) = stand_in();
    let app = TestApp::with(Backend::Sqlite, |s| {
        s.webapp.network_control_url = Some(format!("{url}/"));
    })
    .await;
    let admin = app.first_login().await;
    let listed = call(&app, &admin, ROUTES[1]).await;
    listed.expect_status(200);
    assert_eq!(listed.body, json!({"answered": "GET /control/consumers"}));
    let created = call(&app, &admin, ROUTES[2]).await;
    created.expect_status(201);
    assert_eq!(created.body, json!({"wa_id": "447400900999"}));
    call(&app, &admin, ROUTES[3]).await.expect_status(200);
    let refused = call(&app, &admin, ROUTES[4]).await;
    refused.expect_error(400, 1009);
    assert_eq!(refused.details(), "unknown message type");
    let (media, bytes) = app
        .send_raw(
            app.request("GET", "/console/media/abc")
                .insert_header(("Authorization", admin.as_str())),
        )
        .await;
    assert_eq!((media.status, bytes.as_slice()), (200, &b"PNG"[..]));
    assert_eq!(media.headers.get("content-type").unwrap(), "image/png");
    assert_eq!(
        media.headers.get("x-content-type-options").unwrap(),
        "nosniff"
    );
    call(&app, &admin, ("GET", "/console/media/gone", None))
        .await
        .expect_error(404, 1006);

    // Bad input never reaches the network: 400, not a call to another control path.
    let before = seen.lock().unwrap().len();
    for (method, path, body) in [
        ("GET", "/console/consumers/..%2Fwebhooks", None),
        ("GET", "/console/consumers/12ab", None),
        ("GET", "/console/media/a%2Fb", None),
    ] {
        call(&app, &admin, (method, path, body))
            .await
            .expect_error(400, 1009);
    }
    app.json_post(&admin, "/console/consumers", "[1, 2]")
        .await
        .expect_error(400, 1025);
    app.json_post(&admin, "/console/consumers/447400900999/messages", "{")
        .await
        .expect_error(400, 1025);
    assert_eq!(seen.lock().unwrap().len(), before);
}
