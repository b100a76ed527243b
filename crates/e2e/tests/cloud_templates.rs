//! Cloud template writes end to end on each backend: an integration speaking Cloud submits a
//! template (`POST /{waba-id}/message_templates`), sees it `PENDING` and then `APPROVED` in the
//! Cloud list and in `GET /v1/templates`, sends it, deletes it and sees it gone; bad inputs get
//! Cloud errors. The template lives in wanet (the simulated WhatsApp Manager), reached by the
//! coreapp over the network protocol.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::client::Reply;
use e2e::stack::{messaging_on, Messaging, BUSINESS_WA_ID};
use e2e::webhooks::has_status;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wa_api::cloud::ids;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);
/// Never wrote: only templates reach them.
const STRANGER: &str = "16315550200";

#[track_caller]
fn expect_cloud_error(reply: &Reply, code: u64) {
    assert!(
        (400..500).contains(&reply.status),
        "{}: {:#}",
        reply.status,
        reply.body
    );
    assert_eq!(
        reply.body["error"]["code"].as_u64(),
        Some(code),
        "{:#}",
        reply.body
    );
    assert_eq!(
        reply.body["error"]["type"], "OAuthException",
        "{:#}",
        reply.body
    );
    assert!(reply.body["error"]["error_data"]["details"].is_string());
}

struct Templates<'a> {
    stack: &'a Messaging,
    path: String,
}

impl Templates<'_> {
    fn call(&self, method: &str, query: &str, body: Option<Value>) -> Reply {
        let path = format!("{}{query}", self.path);
        self.stack
            .api()
            .call(method, &path, Some(&self.stack.admin), body)
    }

    /// The Cloud list's entries named `name`.
    fn listed(&self, name: &str) -> Vec<Value> {
        let reply = self.call("GET", &format!("?name={name}"), None);
        reply.expect_status(200);
        reply.body["data"].as_array().unwrap().clone()
    }
}

fn cloud_templates(backend: Backend) {
    let (_db, receiver, stack) = messaging_on(backend, &[]);
    stack.register();
    let waba = ids::waba_id(BUSINESS_WA_ID);
    let templates = Templates {
        stack: &stack,
        path: format!("/v21.0/{waba}/message_templates"),
    };

    // Submitted as pywa and Meta's samples write it: upper-case kinds, a URL button.
    let submitted = json!({
        "name": "spring_sale", "language": "en_US", "category": "MARKETING",
        "allow_category_change": true,
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Spring sale"},
            {"type": "BODY", "text": "Hi {{1}}, {{2}} off everything this week."},
            {"type": "FOOTER", "text": "Acme Shop"},
            {"type": "BUTTONS", "buttons": [
                {"type": "URL", "text": "Shop", "url": "https://shop.example.com/{{1}}"}]}
        ]
    });
    let created = templates.call("POST", "", Some(submitted.clone()));
    created.expect_status(200);
    let namespace = stack.template_namespace();
    let id = ids::template_id(&namespace, "spring_sale", "en_US");
    assert_eq!(
        created.body,
        json!({"id": id, "status": "PENDING", "category": "MARKETING"})
    );

    // Review approves it shortly; both lists show it then (the coreapp fetches again while a
    // template it submitted is pending).
    let deadline = Instant::now() + WAIT;
    let approved = loop {
        let listed = templates.listed("spring_sale");
        if listed.first().is_some_and(|t| t["status"] == "APPROVED") {
            break listed[0].clone();
        }
        assert!(Instant::now() < deadline, "never approved: {listed:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(approved["id"], id);
    assert_eq!(
        approved["components"][1]["text"],
        submitted["components"][1]["text"]
    );
    let onprem = stack
        .api()
        .call("GET", "/v1/templates", Some(&stack.admin), None);
    onprem.expect_status(200);
    let known = onprem.body["templates"].as_array().unwrap();
    assert!(
        known
            .iter()
            .any(|t| t["name"] == "spring_sale" && t["status"] == "APPROVED"),
        "{:#}",
        onprem.body
    );

    // It reaches a stranger through the Cloud send.
    let phone_number_id = ids::phone_number_id(BUSINESS_WA_ID);
    let send = json!({"messaging_product": "whatsapp", "to": STRANGER, "type": "template",
        "template": {"name": "spring_sale", "language": {"code": "en_US"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Ann"}, {"type": "text", "text": "20%"}]},
            {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "spring"}]}]}});
    let sent = stack.api().call(
        "POST",
        &format!("/v21.0/{phone_number_id}/messages"),
        Some(&stack.admin),
        Some(send),
    );
    sent.expect_status(200);
    let message = sent.body["messages"][0]["id"].as_str().unwrap().to_string();
    receiver.wait_until(WAIT, "the new template delivered", |b| {
        has_status(b, &message, "delivered")
    });

    // Bad submissions: the same name and language again, a name with capitals, no category,
    // an unknown category, components of the wrong kind, a body that is not JSON.
    expect_cloud_error(&templates.call("POST", "", Some(submitted.clone())), 100);
    let mut bad_name = submitted.clone();
    bad_name["name"] = json!("Spring Sale");
    expect_cloud_error(&templates.call("POST", "", Some(bad_name)), 131009);
    let mut no_category = submitted.clone();
    no_category.as_object_mut().unwrap().remove("category");
    let refused = templates.call("POST", "", Some(no_category));
    expect_cloud_error(&refused, 100);
    assert!(refused.body["error"]["error_data"]["details"]
        .as_str()
        .unwrap()
        .contains("category"));
    let mut bad_category = submitted.clone();
    bad_category["category"] = json!("PROMOTION");
    expect_cloud_error(&templates.call("POST", "", Some(bad_category)), 131009);
    let mut bad_components = submitted.clone();
    bad_components["components"] = json!("BODY");
    expect_cloud_error(&templates.call("POST", "", Some(bad_components)), 100);
    let not_json = stack
        .api()
        .request("POST", &templates.path)
        .header("Authorization", &stack.admin)
        .header("Content-Type", "application/json")
        .body("{\"name\": ");
    expect_cloud_error(&stack.api().send(not_json), 100);

    // A second translation, then deleting one by its id leaves the other.
    let mut spanish = submitted.clone();
    spanish["language"] = json!("es_MX");
    templates.call("POST", "", Some(spanish)).expect_status(200);
    let spanish_id = ids::template_id(&namespace, "spring_sale", "es_MX");
    let deleted = templates.call(
        "DELETE",
        &format!("?name=spring_sale&hsm_id={spanish_id}"),
        None,
    );
    deleted.expect_status(200);
    assert_eq!(deleted.body, json!({"success": true}));
    let left: Vec<Value> = templates
        .listed("spring_sale")
        .iter()
        .map(|t| t["language"].clone())
        .collect();
    assert_eq!(left, vec![json!("en_US")]);

    // Deleting by name removes every translation; the name is then unknown.
    let deleted = templates.call("DELETE", "?name=spring_sale", None);
    deleted.expect_status(200);
    assert_eq!(deleted.body, json!({"success": true}));
    assert!(templates.listed("spring_sale").is_empty());
    let onprem = stack
        .api()
        .call("GET", "/v1/templates", Some(&stack.admin), None);
    assert!(!onprem.body["templates"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "spring_sale"));
    expect_cloud_error(&templates.call("DELETE", "?name=spring_sale", None), 100);
    expect_cloud_error(&templates.call("DELETE", "", None), 100);
    let gone = stack.api().call(
        "POST",
        &format!("/v21.0/{phone_number_id}/messages"),
        Some(&stack.admin),
        Some(
            json!({"messaging_product": "whatsapp", "to": STRANGER, "type": "template",
            "template": {"name": "spring_sale", "language": {"code": "en_US"}}}),
        ),
    );
    assert_eq!(gone.body["error"]["code"], 132001, "{:#}", gone.body);

    // Another business account's id is no object of this caller.
    let other = stack.api().call(
        "POST",
        "/v21.0/123456789012345/message_templates",
        Some(&stack.admin),
        Some(submitted),
    );
    assert_eq!(other.status, 400, "{:#}", other.body);
    assert_eq!(other.body["error"]["code"], 100, "{:#}", other.body);
    assert_eq!(other.body["error"]["error_subcode"], 33);
}

#[test]
fn cloud_templates_on_sqlite() {
    cloud_templates(Backend::Sqlite);
}

#[test]
fn cloud_templates_on_mysql() {
    cloud_templates(Backend::Mysql);
}

#[test]
fn cloud_templates_on_postgres() {
    cloud_templates(Backend::Postgres);
}
