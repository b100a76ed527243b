//! The webapp's route table in process, without a coreapp: every public row of the shared
//! table (`wa_api::rpc::ROUTES`) asks for a token, every path refuses the methods it does not
//! route with 405, unknown paths are 404, and a relayed call that passes the webapp's checks
//! answers 1014 while the coreapp is unreachable. The coreapp half of the table check is in
//! `crates/coreapp/tests/rpc.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use serde_json::json;
use wa_api::rpc::{paths, Exposure, ROUTES};
use wa_store::Backend;
use webapp::routes::OWN_ROUTES;

on_every_backend!(
    every_public_route_asks_for_a_token,
    other_methods_are_405_on_every_path,
    unknown_paths_are_404,
    relayed_calls_answer_1014_without_a_coreapp,
    first_login_must_change_the_password,
    json_bodies_are_read_whatever_their_content_type,
);

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// A concrete path for a table path: every `{parameter}` becomes `x`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "x"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The webapp half of the route table check: a route missing here would answer 404 or 405.
async fn every_public_route_asks_for_a_token(backend: Backend) {
    let app = TestApp::on(backend).await;
    let mut refused = Vec::new();
    for route in ROUTES.iter().filter(|r| r.exposure != Exposure::Internal) {
        let (method, path) = (route.method.as_str(), concrete(route.path));
        let reply = app.call(method, &path, None, None).await;
        if (reply.status, reply.code()) != (401, 1005) {
            refused.push(format!(
                "{method} {path} -> {} {}",
                reply.status, reply.body
            ));
        }
    }
    assert!(refused.is_empty(), "routes not served: {refused:#?}");
    // Internal routes are not exposed.
    for route in ROUTES.iter().filter(|r| r.exposure == Exposure::Internal) {
        let reply = app
            .call(route.method.as_str(), route.path, None, None)
            .await;
        reply.expect_error(404, 1006);
    }
}

async fn other_methods_are_405_on_every_path(backend: Backend) {
    let app = TestApp::on(backend).await;
    // The webapp's own routes, grouped by path.
    let mut table: Vec<(String, Vec<&str>)> = Vec::new();
    for route in OWN_ROUTES {
        let path = concrete(route.path);
        match table.iter_mut().find(|(p, _)| *p == path) {
            Some((_, methods)) => methods.push(route.method.as_str()),
            None => table.push((path, vec![route.method.as_str()])),
        }
    }
    for (path, routes) in paths() {
        let public: Vec<&str> = routes
            .iter()
            .filter(|r| r.exposure != Exposure::Internal)
            .map(|r| r.method.as_str())
            .collect();
        if !public.is_empty() {
            table.push((concrete(path), public));
        }
    }
    let mut wrong = Vec::new();
    for (path, routed) in &table {
        for method in METHODS.iter().filter(|m| !routed.contains(m)) {
            let reply = app.call(method, path, None, None).await;
            if (reply.status, reply.code()) != (405, 1014) {
                wrong.push(format!(
                    "{method} {path} -> {} {}",
                    reply.status, reply.body
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

async fn unknown_paths_are_404(backend: Backend) {
    let app = TestApp::on(backend).await;
    for path in ["/v2/anything", "/v1/nothing/here", "/rpc/gateway_status"] {
        let reply = app.call("GET", path, None, None).await;
        reply.expect_error(404, 1006);
        assert_eq!(reply.details(), "URL path not found");
    }
    // A trailing slash is the same route.
    let admin = app.first_login().await;
    app.call("GET", "/v1/users/admin/", Some(&admin), None)
        .await
        .expect_status(200);
}

async fn relayed_calls_answer_1014_without_a_coreapp(backend: Backend) {
    let app = TestApp::on(backend).await;
    let admin = app.first_login().await;
    let send = json!({"to": "16315550100", "type": "text", "text": {"body": "hi"}});
    for (method, path, body) in [
        ("POST", "/v1/messages", Some(send)),
        ("GET", "/v1/settings/application", None),
        ("GET", "/v1/stickerpacks", None),
    ] {
        let reply = app.call(method, path, Some(&admin), body).await;
        assert_eq!(reply.code(), 1014, "{method} {path}: {}", reply.body);
    }
    // Bad JSON is refused by the webapp before any relay.
    let reply = app.json_post(&admin, "/v1/messages", "{\"to\": ").await;
    reply.expect_error(400, 1025);
    // Health says which coreapp it could not reach; what needs no coreapp keeps working.
    let reply = app.call("GET", "/v1/health", Some(&admin), None).await;
    reply.expect_error(500, 1014);
    let details = "Connection refused. Please check if wacore is running: 127.0.0.1:";
    assert!(reply.details().starts_with(details), "{}", reply.body);
    app.call("GET", "/v1/users/admin", Some(&admin), None)
        .await
        .expect_status(200);
}

/// A JSON body is read as JSON whatever its declared type (docs/compatibility.md); a body that
/// is not JSON is a syntax error whatever its type.
async fn json_bodies_are_read_whatever_their_content_type(backend: Backend) {
    let app = TestApp::on(backend).await;
    let admin = app.first_login().await;
    let post_as = |content_type: &'static str, body: String| {
        app.request("POST", "/v1/users")
            .insert_header(("Authorization", admin.as_str()))
            .insert_header(("Content-Type", content_type))
            .set_payload(body)
    };
    for (n, content_type) in ["text/plain", "application/JSON"].into_iter().enumerate() {
        let body = format!(r#"{{"username": "jdoe{n}", "password": "S3cure!pass"}}"#);
        let reply = app.send(post_as(content_type, body)).await;
        reply.expect_status(201);
    }
    // No Content-Type at all.
    let untyped = app
        .request("POST", "/v1/users")
        .insert_header(("Authorization", admin.as_str()))
        .set_payload(r#"{"username": "jdoe9", "password": "S3cure!pass"}"#);
    app.send(untyped).await.expect_status(201);
    app.call("GET", "/v1/users/jdoe9", Some(&admin), None)
        .await
        .expect_status(200);
    let form = "username=jdoe&password=S3cure!pass".to_string();
    let reply = app
        .send(post_as("application/x-www-form-urlencoded", form))
        .await;
    reply.expect_error(400, 1025);
}

async fn first_login_must_change_the_password(backend: Backend) {
    let app = TestApp::on(backend).await;
    // The default password works only to set a new one.
    let reply = app.login("admin", "secret", None).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    let reply = app
        .login("admin", "secret", Some(json!({"new_password": "short"})))
        .await;
    reply.expect_error(400, 1009);
    let admin = app.first_login().await;
    app.call("GET", "/v1/users/admin", Some(&admin), None)
        .await
        .expect_status(200);
    app.login("admin", "secret", None)
        .await
        .expect_error(401, 1005);
    let again = app.bearer("admin", common::ADMIN_PASSWORD).await;
    let reply = app
        .call("POST", "/v1/users/logout", Some(&again), None)
        .await;
    reply.expect_status(200);
    app.call("GET", "/v1/users/admin", Some(&again), None)
        .await
        .expect_error(401, 1005);
}
