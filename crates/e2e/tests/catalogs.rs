//! Product messages against wanet's catalogs (issue 4, spec onprem-messaging §2.4.5 and §8.3
//! codes 2024–2030): sends nothing of which can go are refused with their code, a partly
//! sendable list is accepted, the phone gets only the sendable products and a `warning` status
//! (Appendix B.3) reports the rest before the usual statuses; on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{env, Messaging, BUSINESS_WA_ID, FAST_PHONES};
use e2e::webhooks::with_status;
use e2e::Receiver;
use serde_json::{json, Value};
use std::time::Duration;
use wa_store::testing::TestDb;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);
const CONSUMER: &str = "16315550400";
/// Linked to the business: `A`, `B` sendable, `C`, `D` failed compliance.
const SHOP: &str = "555000111";
/// Exists, but linked to another number only.
const FOREIGN: &str = "777000222";

fn send(stack: &Messaging, interactive: Value) -> e2e::Reply {
    let body = json!({"to": CONSUMER, "type": "interactive", "interactive": interactive});
    stack
        .api()
        .call("POST", "/v1/messages", Some(&stack.admin), Some(body))
}

fn product(catalog_id: &str, sku: &str) -> Value {
    json!({"type": "product", "body": {"text": "Have a look"},
           "action": {"catalog_id": catalog_id, "product_retailer_id": sku}})
}

/// A product list with one section per slice of retailer ids.
fn product_list(catalog_id: &str, sections: &[&[&str]]) -> Value {
    let sections: Vec<Value> = sections
        .iter()
        .enumerate()
        .map(|(n, skus)| {
            let items: Vec<Value> = skus
                .iter()
                .map(|sku| json!({"product_retailer_id": sku}))
                .collect();
            json!({"title": format!("Section {}", n + 1), "product_items": items})
        })
        .collect();
    json!({"type": "product_list", "header": {"type": "text", "text": "Our picks"},
           "body": {"text": "Pick one"}, "action": {"catalog_id": catalog_id, "sections": sections}})
}

fn set_up_catalogs(stack: &Messaging) {
    let shop = json!({"name": "Shop", "linked_numbers": [format!("+{BUSINESS_WA_ID}")], "products": [
        {"product_retailer_id": "A"}, {"product_retailer_id": "B", "compliant": true},
        {"product_retailer_id": "C", "compliant": false}, {"product_retailer_id": "D", "compliant": false}]});
    let (status, created) = stack
        .wanet
        .put(&format!("/control/catalogs/{SHOP}"), shop.clone());
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["linked_numbers"], json!([BUSINESS_WA_ID]));
    let (status, replaced) = stack.wanet.put(&format!("/control/catalogs/{SHOP}"), shop);
    assert_eq!(status, 200, "{replaced}");
    let (status, shown) = stack.wanet.get(&format!("/control/catalogs/{SHOP}"));
    assert_eq!(status, 200);
    assert_eq!(
        shown["products"][2],
        json!({"product_retailer_id": "C", "compliant": false})
    );
    let foreign =
        json!({"linked_numbers": ["16315559999"], "products": [{"product_retailer_id": "A"}]});
    let (status, body) = stack
        .wanet
        .put(&format!("/control/catalogs/{FOREIGN}"), foreign);
    assert_eq!(status, 201, "{body}");
    // The seeded catalog is linked to the business since it registered.
    let (_, all) = stack.wanet.get("/control/catalogs");
    let seeded = all["catalogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["catalog_id"] == "123456789")
        .cloned()
        .unwrap();
    assert_eq!(seeded["linked_numbers"], json!([BUSINESS_WA_ID]));
    assert_eq!(seeded["products"].as_array().unwrap().len(), 30);
}

/// (interactive object, HTTP status, code, details) of sends nothing of which can go, and of
/// malformed catalog fields.
fn refused_sends() -> Vec<(Value, u16, u64, &'static str)> {
    vec![
        (product("404404", "A"), 400, 2024, "Catalog '404404' does not exist"),
        (
            product_list("404404", &[&["A"]]),
            400,
            2024,
            "Catalog '404404' does not exist",
        ),
        (
            product(FOREIGN, "A"),
            400,
            2025,
            "Catalog '777000222' is not linked to this phone number",
        ),
        (
            product(SHOP, "X"),
            400,
            2027,
            "Products not found in catalog '555000111': X",
        ),
        (
            product_list(SHOP, &[&["X"], &["Y"]]),
            400,
            2027,
            "Products not found in catalog '555000111': X, Y",
        ),
        (
            product(SHOP, "C"),
            400,
            2028,
            "Products that failed compliance in catalog '555000111': C",
        ),
        (
            product_list(SHOP, &[&["C", "D"]]),
            400,
            2028,
            "Products that failed compliance in catalog '555000111': C, D",
        ),
        (
            product_list(SHOP, &[&["X"], &["D"]]),
            400,
            2030,
            "No product can be sent: Products not found in catalog '555000111': X; Products that failed compliance in catalog '555000111': D",
        ),
        (
            json!({"type": "product", "action": {"product_retailer_id": "A"}}),
            400,
            1008,
            "Missing mandatory parameter 'catalog_id'",
        ),
        (
            json!({"type": "product", "action": {"catalog_id": 555000111, "product_retailer_id": "A"}}),
            400,
            1009,
            "Parameter 'catalog_id' has invalid value '555000111'",
        ),
        (
            json!({"type": "product_list", "body": {"text": "b"}, "action": {"catalog_id": SHOP, "sections": [{"title": "S", "product_items": [{"product_retailer_id": ["A"]}]}]}}),
            400,
            1009,
            "Parameter 'product_retailer_id' has invalid value '[\"A\"]'",
        ),
    ]
}

fn accepted_id(reply: &e2e::Reply) -> String {
    reply.expect_status(201);
    reply.body["messages"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// What the phone received for message `id`.
fn phone_frame(stack: &Messaging, id: &str) -> Value {
    let phone = stack.wanet.consumer(CONSUMER);
    phone["received"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("the phone did not get {id}: {phone}"))
}

fn catalog_rules(backend: Backend) {
    let receiver = Receiver::start();
    let db = TestDb::new(backend);
    let stack = Messaging::start(
        &env(&[("ONPREM__DATABASE__URL", &db.url)]),
        FAST_PHONES,
        &receiver.url(),
    );
    stack.register();
    stack.wanet.consumer_says(CONSUMER, "Show me the shop");
    set_up_catalogs(&stack);

    for (interactive, status, code, details) in refused_sends() {
        let r = send(&stack, interactive.clone());
        assert_eq!(
            (r.status, r.code(), r.details()),
            (status, code, details),
            "for {interactive}: {:#?}",
            r.body
        );
    }

    // Some products missing, some failing compliance: accepted; the phone gets only A, and the
    // empty second section is dropped.
    let mixed = accepted_id(&send(&stack, product_list(SHOP, &[&["A", "X"], &["C"]])));
    // Only missing products: one warning.
    let missing = accepted_id(&send(&stack, product_list(SHOP, &[&["A", "B", "X"]])));
    // Everything sendable: no warning.
    let whole = accepted_id(&send(&stack, product_list(SHOP, &[&["A"], &["B"]])));
    let bodies = receiver.wait_until(WAIT, "warnings and the statuses that follow", |b| {
        [&mixed, &missing, &whole]
            .iter()
            .all(|id| !with_status(b, id, "read").is_empty())
            && with_status(b, &mixed, "warning").len() == 2
            && with_status(b, &missing, "warning").len() == 1
    });
    for id in [&mixed, &missing, &whole] {
        for status in ["sent", "delivered", "read"] {
            assert_eq!(with_status(&bodies, id, status).len(), 1, "{id} {status}");
        }
    }
    assert!(with_status(&bodies, &whole, "warning").is_empty());

    let warning = with_status(&bodies, &missing, "warning")[0];
    let timestamp = warning["timestamp"].as_str().unwrap();
    assert!(timestamp.parse::<i64>().is_ok(), "{warning}");
    assert_eq!(
        warning,
        &json!({"id": missing, "recipient_id": CONSUMER, "status": "warning", "timestamp": timestamp,
            "errors": [{"code": 2026, "title": "Missing products",
                        "details": "Products not found in catalog '555000111': X"}]})
    );
    let mut mixed_errors: Vec<Value> = with_status(&bodies, &mixed, "warning")
        .iter()
        .map(|w| w["errors"][0].clone())
        .collect();
    mixed_errors.sort_by_key(|e| e["code"].as_u64());
    assert_eq!(
        mixed_errors,
        [
            json!({"code": 2026, "title": "Missing products",
                   "details": "Products not found in catalog '555000111': X"}),
            json!({"code": 2029, "title": "List some products failed compliance",
                   "details": "Products that failed compliance in catalog '555000111': C"}),
        ]
    );

    let sections =
        |id: &str| phone_frame(&stack, id)["message"]["interactive"]["action"]["sections"].clone();
    assert_eq!(
        sections(&mixed),
        json!([{"title": "Section 1", "product_items": [{"product_retailer_id": "A"}]}])
    );
    assert_eq!(
        sections(&missing),
        json!([{"title": "Section 1", "product_items": [{"product_retailer_id": "A"}, {"product_retailer_id": "B"}]}])
    );
    assert_eq!(
        sections(&whole),
        product_list(SHOP, &[&["A"], &["B"]])["action"]["sections"]
    );

    // A warning does not move the message's status.
    let r = stack.api().call(
        "GET",
        &format!("/v1/messages/{mixed}"),
        Some(&stack.admin),
        None,
    );
    r.expect_status(200);
    assert_eq!(r.body["messages"][0]["status"], "read");

    // Removed in Commerce Manager: the next send is refused at once (no stale cache).
    assert_eq!(
        stack.wanet.delete(&format!("/control/catalogs/{SHOP}")),
        204
    );
    assert_eq!(
        stack.wanet.delete(&format!("/control/catalogs/{SHOP}")),
        404
    );
    send(&stack, product(SHOP, "A")).expect_error(400, 2024);
}

#[test]
fn catalogs_on_sqlite() {
    catalog_rules(Backend::Sqlite);
}

#[test]
fn catalogs_on_mysql() {
    catalog_rules(Backend::Mysql);
}

#[test]
fn catalogs_on_postgres() {
    catalog_rules(Backend::Postgres);
}

/// The control API refuses catalogs it could not serve, with a reason.
#[test]
fn bad_catalogs_are_refused_by_the_control_api() {
    let wanet = e2e::stack::wanet(&[]);
    let cases = [
        ("/control/catalogs/1", json!({"linked_numbers": ["12"]})),
        (
            "/control/catalogs/1",
            json!({"products": [{"product_retailer_id": "A"}, {"product_retailer_id": "A"}]}),
        ),
        (
            "/control/catalogs/1",
            json!({"products": [{"product_retailer_id": ""}]}),
        ),
        ("/control/catalogs/1", json!({"products": [{"sku": "A"}]})),
        (
            "/control/catalogs/1",
            json!({"products": [{"product_retailer_id": "A", "compliant": "no"}]}),
        ),
        ("/control/catalogs/1", json!({"linked": []})),
        ("/control/catalogs/a%20b", json!({})),
    ];
    for (path, body) in cases {
        let (status, reply) = wanet.put(path, body.clone());
        assert_eq!(status, 400, "{path} {body} -> {reply}");
        assert!(reply["error"].is_string(), "{reply}");
    }
    let (status, reply) = wanet.get("/control/catalogs/1");
    assert_eq!(status, 404, "{reply}");
}
