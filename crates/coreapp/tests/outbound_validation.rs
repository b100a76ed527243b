//! Every validation rule of `POST /v1/messages` that is checked before the network is asked,
//! with its code, HTTP status and `details`, in process on every backend (moved from the
//! end-to-end suite; the rules that need the network's templates and catalogs stay there, in
//! `crates/e2e/tests/outbound_types.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::test_app::TestApp;
use serde_json::{json, Value};
use wa_store::{Backend, Registration};

on_every_backend!(every_validation_rule_answers_code_status_and_details);

const CONSUMER: &str = "16315550100";

/// One request and the error it must get: HTTP status, code and `details`.
struct Case {
    body: Value,
    status: u16,
    code: u64,
    details: String,
}

/// A 400 for `body`.
fn bad(body: Value, code: u64, details: &str) -> Case {
    Case {
        body,
        status: 400,
        code,
        details: details.to_string(),
    }
}

/// A send to the consumer of `kind` with its object.
fn send(kind: &str, object: Value) -> Value {
    json!({"to": CONSUMER, "type": kind, kind: object})
}

fn not_required(name: &str, kind: &str) -> String {
    format!("Parameter '{name}' is not required for type '{kind}'")
}

fn too_long(name: &str, max: usize) -> String {
    format!("Parameter '{name}' must be at most {max} characters long")
}

/// Spec §1.3 and §2.2: `to`, `type`, `recipient_type`, the booleans, `ttl`, which type objects
/// must and must not be present, and `context`; §2.3: the recipient.
fn top_level_cases() -> Vec<Case> {
    let text = json!({"body": "x"});
    vec![
        bad(
            json!({"type": "text", "text": text}),
            1008,
            "Missing mandatory parameter 'to'",
        ),
        bad(
            json!({"to": 16315550100u64, "text": text}),
            1009,
            "Parameter 'to' has invalid value '16315550100'",
        ),
        bad(
            json!({"to": CONSUMER, "type": "fax"}),
            1009,
            "Parameter 'type' has invalid value 'fax'",
        ),
        bad(
            json!({"to": CONSUMER, "type": 3, "text": text}),
            1009,
            "Parameter 'type' has invalid value '3'",
        ),
        bad(
            json!({"to": CONSUMER, "recipient_type": "group", "text": text}),
            1009,
            "Parameter 'recipient_type' has invalid value 'group'",
        ),
        bad(
            json!({"to": CONSUMER, "preview_url": "yes", "text": text}),
            1009,
            "Parameter 'preview_url' has invalid value 'yes'",
        ),
        bad(
            json!({"to": CONSUMER, "render_mentions": 1, "text": text}),
            1009,
            "Parameter 'render_mentions' has invalid value '1'",
        ),
        bad(
            json!({"to": CONSUMER, "ttl": "", "text": text}),
            1009,
            "Empty TTL value not allowed",
        ),
        bad(
            json!({"to": CONSUMER, "ttl": "soon", "text": text}),
            1009,
            "Parameter 'ttl' has invalid value 'soon'",
        ),
        bad(
            json!({"to": CONSUMER, "ttl": -5, "text": text}),
            1009,
            "Parameter 'ttl' has invalid value '-5'",
        ),
        bad(
            json!({"to": CONSUMER, "ttl": "P1Y", "text": text}),
            1009,
            "Parameter 'ttl' has invalid value 'P1Y'",
        ),
        bad(
            json!({"to": CONSUMER, "type": "image"}),
            1008,
            "Parameter 'image' is mandatory for type 'image'",
        ),
        bad(
            json!({"to": CONSUMER}),
            1008,
            "Parameter 'text' is mandatory for type 'text'",
        ),
        bad(
            json!({"to": CONSUMER, "type": "image", "image": {"id": "a"}, "text": text}),
            1010,
            &not_required("text", "image"),
        ),
        bad(
            json!({"to": CONSUMER, "text": text, "contacts": []}),
            1010,
            &not_required("contacts", "text"),
        ),
        bad(
            json!({"to": CONSUMER, "text": text, "context": "ABGG"}),
            1009,
            "Parameter 'context' has invalid value 'ABGG'",
        ),
        bad(
            json!({"to": CONSUMER, "text": text, "context": {"id": "x"}}),
            1008,
            "Missing mandatory parameter 'message_id'",
        ),
        bad(
            json!({"to": CONSUMER, "text": text, "context": {"message_id": " "}}),
            1009,
            "Parameter 'message_id' has invalid value ' '",
        ),
        bad(
            json!({"to": "not a number", "text": text}),
            1013,
            "Recipient 'not a number' is not a valid WhatsApp user",
        ),
        bad(
            json!({"to": "+1 631 555 0000", "text": text}),
            1021,
            "Cannot send a message to yourself",
        ),
    ]
}

/// Spec §2.4.1 text and §2.4.2 media, with the inner-field table of §2.2.
fn text_and_media_cases() -> Vec<Case> {
    let image = |object: Value| send("image", object);
    vec![
        bad(
            send("text", json!({"body": "x".repeat(4097)})),
            1001,
            "Message body is longer than 4096 characters",
        ),
        bad(
            send("text", json!({})),
            1008,
            "Missing mandatory parameter 'body'",
        ),
        bad(
            send("text", json!({"body": 5})),
            1009,
            "Parameter 'body' has invalid value '5'",
        ),
        bad(
            send("text", json!({"body": " "})),
            1009,
            "Parameter 'body' has invalid value ' '",
        ),
        bad(
            send("text", json!("hello")),
            1009,
            "Parameter 'text' has invalid value 'hello'",
        ),
        bad(
            send("text", json!({"body": "x", "id": "a"})),
            1010,
            &not_required("id", "text"),
        ),
        bad(
            send("text", json!({"body": "x", "caption": "c"})),
            1010,
            &not_required("caption", "text"),
        ),
        bad(
            send("text", json!({"body": "x", "filename": "f"})),
            1010,
            &not_required("filename", "text"),
        ),
        bad(
            send("text", json!({"body": "x", "namespace": "n"})),
            1010,
            &not_required("namespace", "text"),
        ),
        bad(
            send("text", json!({"body": "x", "element_name": "e"})),
            1010,
            &not_required("element_name", "text"),
        ),
        bad(
            image(json!({"id": "a", "body": "b"})),
            1010,
            &not_required("body", "image"),
        ),
        bad(
            send("document", json!({"id": "a", "namespace": "n"})),
            1010,
            &not_required("namespace", "document"),
        ),
        bad(
            send("video", json!({"id": "a", "element_name": "e"})),
            1010,
            &not_required("element_name", "video"),
        ),
        bad(
            send("audio", json!({"id": "a", "caption": "c"})),
            1010,
            &not_required("caption", "audio"),
        ),
        bad(
            send("sticker", json!({"id": "a", "caption": "c"})),
            1010,
            &not_required("caption", "sticker"),
        ),
        bad(
            send("video", json!({"id": "a", "filename": "v.mp4"})),
            1010,
            &not_required("filename", "video"),
        ),
        bad(
            send("sticker", json!({"id": "a", "filename": "s.webp"})),
            1010,
            &not_required("filename", "sticker"),
        ),
        bad(
            image(json!({"caption": "c"})),
            1008,
            "Atleast one of the following parameters must be present: 'id', 'link'",
        ),
        bad(
            image(json!({"id": "a", "link": "https://a.example/x.jpg"})),
            1010,
            "Exactly one of the following parameters must be present: 'id', 'link'",
        ),
        bad(
            image(json!({"link": "a.jpg"})),
            1009,
            "Parameter 'link' has invalid value 'a.jpg'",
        ),
        bad(
            image(json!({"link": "ftp://a.example/x.jpg"})),
            1009,
            "Parameter 'link' has invalid value 'ftp://a.example/x.jpg'",
        ),
        bad(
            image(json!({"id": 7})),
            1009,
            "Parameter 'id' has invalid value '7'",
        ),
        bad(
            image(json!({"id": "a", "caption": "c".repeat(1025)})),
            1009,
            &too_long("caption", 1024),
        ),
        bad(
            image(json!({"id": "a", "provider": {"name": "p"}})),
            1010,
            "Parameter 'provider' is not required for parameter 'id'",
        ),
        bad(
            image(json!({"link": "https://a.example/x.jpg", "provider": {}})),
            1008,
            "Missing mandatory parameter 'name'",
        ),
    ]
}

/// Spec §2.4.3 location and §2.4.4 contacts.
fn location_and_contacts_cases() -> Vec<Case> {
    let location = |object: Value| send("location", object);
    let contacts = |cards: Value| json!({"to": CONSUMER, "type": "contacts", "contacts": cards});
    vec![
        bad(
            location(json!({"latitude": 1})),
            1008,
            "Missing mandatory parameter 'longitude'",
        ),
        bad(
            location(json!({"longitude": 1})),
            1008,
            "Missing mandatory parameter 'latitude'",
        ),
        bad(
            location(json!({"latitude": "north", "longitude": 1})),
            1009,
            "Parameter 'latitude' has invalid value 'north'",
        ),
        bad(
            location(json!({"latitude": 1, "longitude": 200})),
            1009,
            "Parameter 'longitude' has invalid value '200'",
        ),
        bad(
            location(json!({"latitude": 1, "longitude": 1, "body": "b"})),
            1010,
            &not_required("body", "location"),
        ),
        bad(
            location(json!({"latitude": 1, "longitude": 1, "id": "a"})),
            1010,
            &not_required("id", "location"),
        ),
        bad(
            location(json!({"latitude": 1, "longitude": 1, "caption": "c"})),
            1010,
            &not_required("caption", "location"),
        ),
        bad(
            location(json!({"latitude": 1, "longitude": 1, "name": 5})),
            1009,
            "Parameter 'name' has invalid value '5'",
        ),
        bad(
            contacts(json!([{"name": {"first_name": "K"}}])),
            1008,
            "Missing mandatory parameter 'formatted_name'",
        ),
        bad(
            contacts(json!([{"phones": []}])),
            1008,
            "Missing mandatory parameter 'name'",
        ),
        bad(
            contacts(json!({"name": "K"})),
            1009,
            "Parameter 'contacts' has invalid value '{\"name\":\"K\"}'",
        ),
        bad(
            contacts(json!([])),
            1009,
            "Parameter 'contacts' has invalid value '[]'",
        ),
        bad(
            contacts(json!(["K"])),
            1009,
            "Parameter 'contacts' has invalid value 'K'",
        ),
        bad(
            contacts(json!([{"name": {"formatted_name": "K"}, "birthday": "18/08/2012"}])),
            1009,
            "Parameter 'birthday' has invalid value '18/08/2012'",
        ),
        bad(
            contacts(json!([{"name": {"formatted_name": "K"}, "phones": "x"}])),
            1009,
            "Parameter 'phones' has invalid value 'x'",
        ),
    ]
}

fn rows(n: usize) -> Value {
    (0..n)
        .map(|i| json!({"id": format!("r{i}"), "title": "Row"}))
        .collect()
}

fn reply_buttons(titles: &[&str]) -> Value {
    titles
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"type": "reply", "reply": {"id": format!("b{i}"), "title": t}}))
        .collect()
}

/// Spec §2.4.5: list messages and the limits table.
fn interactive_list_cases() -> Vec<Case> {
    let interactive = |object: Value| send("interactive", object);
    let list = |sections: Value| {
        interactive(
            json!({"type": "list", "body": {"text": "b"}, "action": {"button": "Go", "sections": sections}}),
        )
    };
    let list_with = |key: &str, value: Value| {
        let mut object = json!({"type": "list", "body": {"text": "b"}, "action": {"button": "Go", "sections": [{"rows": rows(1)}]}});
        object[key] = value;
        interactive(object)
    };
    let titled = |n: usize| -> Value {
        (0..n)
            .map(|i| json!({"title": format!("S{i}"), "rows": [{"id": format!("r{i}"), "title": "R"}]}))
            .collect()
    };
    let sections_details =
        "Between 1 and 10 sections are allowed; each needs a title when there are several";
    let rows_details = "Every section needs at least 1 row, and at most 10 rows are allowed in all";
    vec![
        bad(
            interactive(json!({"body": {"text": "b"}})),
            1008,
            "Missing mandatory parameter 'type'",
        ),
        bad(
            interactive(json!({"type": "carousel"})),
            1009,
            "Parameter 'type' has invalid value 'carousel'",
        ),
        bad(
            interactive(json!({"type": "list", "action": {}})),
            1008,
            "Parameter 'body' is mandatory for interactive type 'list'",
        ),
        bad(
            interactive(json!({"type": "list", "body": {"text": "b"}})),
            1008,
            "Parameter 'action' is mandatory for interactive type 'list'",
        ),
        bad(
            list_with("body", json!({"text": "b".repeat(1025)})),
            1009,
            &too_long("text", 1024),
        ),
        bad(
            list_with("body", json!({})),
            1008,
            "Missing mandatory parameter 'text'",
        ),
        bad(
            list_with("footer", json!({"text": "f".repeat(61)})),
            1009,
            &too_long("text", 60),
        ),
        bad(
            list_with("header", json!({"type": "text", "text": "h".repeat(61)})),
            1009,
            &too_long("text", 60),
        ),
        bad(
            list_with("header", json!({"type": "image", "image": {"id": "a"}})),
            2036,
            "Header type 'image' is not allowed for interactive type 'list'",
        ),
        bad(
            list_with("header", json!({"text": "h"})),
            2036,
            "The header needs a 'type'",
        ),
        bad(
            list_with("header", json!({"type": "text"})),
            2036,
            "A text header needs a 'text'",
        ),
        bad(
            list_with("header", json!("h")),
            2036,
            "The header must be an object",
        ),
        bad(
            interactive(
                json!({"type": "list", "body": {"text": "b"}, "action": {"sections": [{"rows": rows(1)}]}}),
            ),
            1008,
            "Missing mandatory parameter 'button'",
        ),
        bad(
            interactive(
                json!({"type": "list", "body": {"text": "b"}, "action": {"button": "b".repeat(21), "sections": [{"rows": rows(1)}]}}),
            ),
            1009,
            &too_long("button", 20),
        ),
        bad(list(json!([])), 2015, sections_details),
        bad(list(titled(11)), 2015, sections_details),
        bad(
            list(json!([{"rows": rows(1)}, {"title": "B", "rows": [{"id": "x", "title": "R"}]}])),
            2015,
            sections_details,
        ),
        bad(
            list(json!([{"title": "t".repeat(25), "rows": rows(1)}])),
            1009,
            &too_long("title", 24),
        ),
        bad(
            list(json!([{"title": "A", "rows": []}])),
            2016,
            rows_details,
        ),
        bad(
            list(
                json!([{"title": "A", "rows": rows(6)}, {"title": "B", "rows": [{"id": "x1", "title": "R"}, {"id": "x2", "title": "R"}, {"id": "x3", "title": "R"}, {"id": "x4", "title": "R"}, {"id": "x5", "title": "R"}]}]),
            ),
            2016,
            rows_details,
        ),
        bad(
            list(json!([{"title": "A", "rows": [{"id": "a", "title": "x".repeat(25)}]}])),
            1009,
            &too_long("title", 24),
        ),
        bad(
            list(json!([{"title": "A", "rows": [{"id": "i".repeat(201), "title": "R"}]}])),
            1009,
            &too_long("id", 200),
        ),
        bad(
            list(
                json!([{"title": "A", "rows": [{"id": "a", "title": "R", "description": "d".repeat(73)}]}]),
            ),
            1009,
            &too_long("description", 72),
        ),
        bad(
            list(
                json!([{"title": "A", "rows": [{"id": "a", "title": "R"}, {"id": "a", "title": "S"}]}]),
            ),
            1009,
            "Parameter 'id' has invalid value 'a'",
        ),
    ]
}

/// Spec §2.4.5: reply buttons, single product and product lists.
fn interactive_button_and_product_cases() -> Vec<Case> {
    let interactive = |object: Value| send("interactive", object);
    let buttons = |buttons: Value| {
        interactive(
            json!({"type": "button", "body": {"text": "b"}, "action": {"buttons": buttons}}),
        )
    };
    let four = reply_buttons(&["A", "B", "C", "D"]);
    let product_list = |sections: Value| {
        interactive(
            json!({"type": "product_list", "header": {"type": "text", "text": "h"}, "body": {"text": "b"}, "action": {"catalog_id": "1", "sections": sections}}),
        )
    };
    let items = |n: usize| -> Value {
        (0..n)
            .map(|i| json!({"product_retailer_id": format!("SKU-{i}")}))
            .collect()
    };
    let products_details =
        "Every section needs at least 1 product, and at most 30 products are allowed in all";
    vec![
        bad(
            buttons(json!([])),
            1009,
            "Parameter 'buttons' has invalid value '[]'",
        ),
        bad(
            buttons(four.clone()),
            1009,
            // Echoed values are cut at 128 characters (`wa_api::error::echoed`).
            &format!(
                "Parameter 'buttons' has invalid value '{}'",
                wa_api::error::echoed(&four.to_string())
            ),
        ),
        bad(
            buttons(reply_buttons(&["Yes", "Yes"])),
            1009,
            "Parameter 'title' has invalid value 'Yes'",
        ),
        bad(
            buttons(reply_buttons(&[&"t".repeat(21)])),
            1009,
            &too_long("title", 20),
        ),
        bad(
            buttons(json!([{"type": "reply", "reply": {"id": "i".repeat(257), "title": "T"}}])),
            1009,
            &too_long("id", 256),
        ),
        bad(
            buttons(
                json!([{"type": "reply", "reply": {"id": "a", "title": "A"}}, {"type": "reply", "reply": {"id": "a", "title": "B"}}]),
            ),
            1009,
            "Parameter 'id' has invalid value 'a'",
        ),
        bad(
            buttons(json!([{"type": "url", "reply": {"id": "a", "title": "A"}}])),
            1009,
            "Parameter 'type' has invalid value 'url'",
        ),
        bad(
            interactive(
                json!({"type": "button", "header": {"type": "sticker"}, "body": {"text": "b"}, "action": {"buttons": []}}),
            ),
            2036,
            "Header type 'sticker' is not allowed for interactive type 'button'",
        ),
        bad(
            interactive(
                json!({"type": "button", "header": {"type": "video"}, "body": {"text": "b"}, "action": {"buttons": []}}),
            ),
            2036,
            "Header type 'video' needs a 'video' object",
        ),
        bad(
            interactive(json!({"type": "product", "action": {"catalog_id": "1"}})),
            1008,
            "Missing mandatory parameter 'product_retailer_id'",
        ),
        bad(
            interactive(json!({"type": "product", "action": {"product_retailer_id": "SKU"}})),
            1008,
            "Missing mandatory parameter 'catalog_id'",
        ),
        bad(
            interactive(
                json!({"type": "product", "header": {"type": "text", "text": "h"}, "action": {"catalog_id": "1", "product_retailer_id": "SKU"}}),
            ),
            1010,
            "Parameter 'header' is not required for interactive type 'product'",
        ),
        bad(
            product_list(json!([{"title": "S", "product_items": []}])),
            2023,
            products_details,
        ),
        bad(
            product_list(json!([{"title": "S", "product_items": items(31)}])),
            2023,
            products_details,
        ),
        bad(
            product_list(json!([])),
            2015,
            "Between 1 and 10 sections are allowed; each needs a title when there are several",
        ),
    ]
}

/// Spec §2.4.8 reaction.
fn reaction_cases() -> Vec<Case> {
    let reaction = |object: Value| send("reaction", object);
    vec![
        bad(
            reaction(json!({"emoji": "x"})),
            1008,
            "Missing mandatory parameter 'message_id'",
        ),
        bad(
            reaction(json!({"message_id": "ABGG1"})),
            1008,
            "Missing mandatory parameter 'emoji'",
        ),
        bad(
            reaction(json!({"message_id": "ABGG1", "emoji": "hello"})),
            1009,
            "Parameter 'emoji' has invalid value 'hello'",
        ),
        bad(
            reaction(json!({"message_id": "", "emoji": "\u{1f44d}"})),
            1009,
            "Parameter 'message_id' has invalid value ''",
        ),
    ]
}

fn validation_cases() -> Vec<Case> {
    [
        top_level_cases(),
        text_and_media_cases(),
        location_and_contacts_cases(),
        interactive_list_cases(),
        interactive_button_and_product_cases(),
        reaction_cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

async fn every_validation_rule_answers_code_status_and_details(backend: Backend) {
    let app = TestApp::on(backend).await;
    // The business's own number, for "Cannot send a message to yourself".
    app.store()
        .save_registration(Registration {
            phone: "16315550000".to_string(),
            vname: "Shop".to_string(),
            secret: "s".to_string(),
            registered_at: 1,
            deregistered_at: None,
        })
        .await
        .unwrap();
    let mut failures = Vec::new();
    for case in validation_cases() {
        let r = app.post("/v1/messages", case.body.clone()).await;
        let got = (r.status.as_u16(), r.code(), r.details().to_string());
        if got != (case.status, case.code, case.details.clone()) {
            failures.push(format!(
                "for {}\n  want {} {} {:?}\n  got  {got:?}",
                case.body, case.status, case.code, case.details
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
