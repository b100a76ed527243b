//! The OpenAPI document (`docs/openapi.json`, served at `GET /v1/openapi.json`) held to the code:
//! it describes exactly the routes the webapp serves (its own table and the coreapp's), every
//! operation falls back to the error envelope, every reference resolves, and the webapp serves it
//! without a token. Whether the answers match the schemas is `crates/e2e/tests/openapi.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use serde_json::Value;
use std::collections::BTreeSet;
use wa_store::Backend;
use webapp::routes::openapi::DOCUMENT;
use webapp::routes::public_routes;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn document() -> Value {
    serde_json::from_str(DOCUMENT).expect("docs/openapi.json is JSON")
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                found.push((method.to_uppercase(), path.clone(), operation));
            }
        }
    }
    found
}

#[test]
fn the_document_describes_exactly_the_served_routes() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let served: BTreeSet<(String, String)> = public_routes()
        .into_iter()
        .map(|(method, path)| (method.as_str().to_string(), path.to_string()))
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let not_served: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served, not documented: {undocumented:?}"
    );
    assert!(
        not_served.is_empty(),
        "documented, not served: {not_served:?}"
    );
}

#[test]
fn every_operation_is_named_and_answers_errors_in_the_envelope() {
    let doc = document();
    let mut ids = BTreeSet::new();
    for (method, path, operation) in operations(&doc) {
        let id = operation["operationId"].as_str().unwrap_or_default();
        assert!(
            ids.insert(id.to_string()),
            "{method} {path}: operationId {id:?} not unique"
        );
        assert_eq!(
            operation["responses"]["default"]["$ref"], "#/components/responses/Error",
            "{method} {path}"
        );
        let success = operation["responses"]
            .as_object()
            .unwrap()
            .keys()
            .any(|status| status.starts_with('2'));
        assert!(success, "{method} {path}: no success answer");
        for name in path_parameters(&path) {
            let declared = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["in"] == "path" && p["name"] == name.as_str());
            assert!(declared, "{method} {path}: parameter {name} not declared");
        }
    }
}

fn path_parameters(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_reference_resolves() {
    let doc = document();
    let mut unresolved = Vec::new();
    collect_unresolved(&doc, &doc, &mut unresolved);
    assert!(unresolved.is_empty(), "{unresolved:?}");
}

fn collect_unresolved(doc: &Value, node: &Value, unresolved: &mut Vec<String>) {
    match node {
        Value::Object(fields) => {
            if let Some(Value::String(target)) = fields.get("$ref") {
                let pointer = target.strip_prefix('#').unwrap_or(target);
                if doc.pointer(pointer).is_none() {
                    unresolved.push(target.clone());
                }
            }
            fields
                .values()
                .for_each(|v| collect_unresolved(doc, v, unresolved));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| collect_unresolved(doc, v, unresolved)),
        _ => {}
    }
}

#[actix_web::test]
async fn the_webapp_serves_the_document_without_a_token() {
    let app = TestApp::on(Backend::Sqlite).await;
    let reply = app.call("GET", "/v1/openapi.json", None, None).await;
    reply.expect_status(200);
    assert_eq!(reply.body, document());
    assert_eq!(
        reply.headers.get("content-type").unwrap(),
        "application/json"
    );
}
