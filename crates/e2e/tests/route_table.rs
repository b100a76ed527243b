//! The shared route table (`wa_api::rpc::ROUTES`) against the two real servers: the coreapp
//! answers every endpoint of the table on its internal port, and the webapp exposes every public
//! one (asking for a token, never "URL path not found" or 405). A route missing on either side
//! fails here instead of answering 404 in production.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{coreapp, env, webapp};
use e2e::Client;
use wa_api::rpc::{Exposure, ROUTES};
use wa_store::testing::TestDb;
use wa_store::Backend;

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

fn is_unknown_path(status: u16, body: &serde_json::Value) -> bool {
    status == 405 || (status == 404 && body["errors"][0]["details"] == "URL path not found")
}

#[test]
fn both_sides_answer_every_route_of_the_table() {
    let db = TestDb::new(Backend::Sqlite);
    let vars = env(&[("ONPREM__DATABASE__URL", &db.url)]);
    let (_core, core_port) = coreapp(&vars);
    let web = webapp(&vars, core_port);
    let core = Client::plain(&format!("http://127.0.0.1:{core_port}"));
    let mut missing = Vec::new();
    for route in ROUTES {
        let (method, path) = (route.method.as_str(), concrete(route.path));
        let answer = core.call(method, &path, None, None);
        if is_unknown_path(answer.status, &answer.body) {
            missing.push(format!("coreapp: {method} {path} -> {}", answer.status));
        }
        if route.exposure == Exposure::Internal {
            continue;
        }
        let answer = web.client.call(method, &path, None, None);
        if answer.status != 401 {
            missing.push(format!(
                "webapp: {method} {path} -> {} {}",
                answer.status, answer.body
            ));
        }
    }
    assert!(missing.is_empty(), "routes not served: {missing:#?}");
    // And the negative: a path outside the table is unknown to both.
    let answer = core.call("GET", "/v1/nothing/here", None, None);
    assert!(is_unknown_path(answer.status, &answer.body));
    let answer = web.client.call("GET", "/v1/nothing/here", None, None);
    assert!(
        is_unknown_path(answer.status, &answer.body),
        "{}",
        answer.body
    );
}
