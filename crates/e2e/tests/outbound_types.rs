//! Every outbound message type (issue 4): the 201, the frame the phone received, and the status
//! webhooks that follow; and every validation rule with its code, HTTP status and `details`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::files::sha256_hex;
use e2e::files::{serve_files, ServedFile};
use e2e::stack::{env, Messaging, FAST_PHONES};
use e2e::Receiver;
use serde_json::{json, Value};
use std::time::Duration;
use wa_store::testing::TestDb;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);
const CONSUMER: &str = "16315550100";

fn has_status(bodies: &[Value], id: &str, status: &str) -> bool {
    bodies
        .iter()
        .filter_map(|b| b["statuses"].as_array())
        .flatten()
        .any(|s| s["id"] == id && s["status"] == status)
}

fn registered_stack(receiver: &Receiver, db: &TestDb) -> Messaging {
    let stack = Messaging::start(
        &env(&[("ONPREM__DATABASE__URL", &db.url)]),
        FAST_PHONES,
        &receiver.url(),
    );
    stack.register();
    stack
}

fn post(stack: &Messaging, body: Value) -> e2e::Reply {
    stack
        .api()
        .call("POST", "/v1/messages", Some(&stack.admin), Some(body))
}

/// Media the sends refer to: uploaded (by id) or served by a local "CDN" (by link, behind Basic
/// credentials registered as the provider `my-auth-provider`).
struct MediaFiles {
    /// Base URL of the files behind the provider's credentials, and of the open ones.
    private: String,
    public: String,
    image_id: String,
    audio_id: String,
    document_id: String,
    jpeg: Vec<u8>,
    mp3: Vec<u8>,
    mp4: Vec<u8>,
    pdf: Vec<u8>,
    webp: Vec<u8>,
}

fn bytes(len: u32, seed: u32) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + seed) % 251) as u8).collect()
}

fn media_files(stack: &Messaging) -> MediaFiles {
    let (jpeg, mp3, mp4, pdf, webp) = (
        bytes(40_000, 1),
        bytes(30_000, 2),
        bytes(60_000, 3),
        bytes(50_000, 4),
        bytes(20_000, 5),
    );
    let private = serve_files(
        vec![ServedFile::new("/a.jpg", "image/jpeg", jpeg.clone())],
        Some(("cdn-user", "cdn-password")),
    );
    let public = serve_files(
        vec![
            ServedFile::new("/v.mp4", "video/mp4", mp4.clone()),
            ServedFile::new("/s.webp", "image/webp", webp.clone()),
            ServedFile::new("/p.jpg", "image/jpeg", jpeg.clone()),
            ServedFile::new("/inv-42.pdf", "application/pdf", pdf.clone()),
        ],
        None,
    );
    let provider = json!([{"name": "my-auth-provider", "type": "www",
        "config": {"basic": {"username": "cdn-user", "password": "cdn-password"}}}]);
    stack.set_media_providers(provider);
    MediaFiles {
        image_id: stack.upload_media("image/jpeg", &jpeg),
        audio_id: stack.upload_media("audio/mpeg", &mp3),
        document_id: stack.upload_media("application/pdf", &pdf),
        private,
        public,
        jpeg,
        mp3,
        mp4,
        pdf,
        webp,
    }
}

/// A media send, and what the phone must get: the same object, except that a link is replaced
/// by the network's copy of the file, whose digest proves the bytes arrived unchanged.
fn media(kind: &str, object: Value, bytes: &[u8]) -> (Value, Value) {
    let mut expected = object.clone();
    let fields = expected.as_object_mut().unwrap();
    fields.remove("link");
    fields.remove("provider");
    fields.insert("sha256".into(), sha256_hex(bytes).into());
    (
        json!({ "type": kind, kind: object }),
        json!({ kind: expected }),
    )
}

/// One message of each type with what the phone must have received for it.
fn every_type(ns: &str, files: &MediaFiles) -> Vec<(Value, Value)> {
    let same = |key: &str, object: Value| {
        (
            json!({ "type": key, key: object.clone() }),
            json!({ key: object }),
        )
    };
    vec![
        (
            json!({"type": "text", "preview_url": true, "text": {"body": "Check https://example.com"}}),
            json!({"text": {"body": "Check https://example.com"}, "preview_url": true}),
        ),
        media(
            "image",
            json!({"id": files.image_id, "caption": "Your receipt"}),
            &files.jpeg,
        ),
        media(
            "image",
            json!({"link": format!("{}/a.jpg", files.private), "caption": "Your receipt", "provider": {"name": "my-auth-provider"}}),
            &files.jpeg,
        ),
        media("audio", json!({"id": files.audio_id}), &files.mp3),
        media(
            "video",
            json!({"link": format!("{}/v.mp4", files.public), "caption": "Demo"}),
            &files.mp4,
        ),
        media(
            "document",
            json!({"id": files.document_id, "caption": "Invoice", "filename": "invoice.pdf"}),
            &files.pdf,
        ),
        media(
            "sticker",
            json!({"link": format!("{}/s.webp", files.public)}),
            &files.webp,
        ),
        (
            json!({"type": "location", "location": {"longitude": "-122.425332", "latitude": 37.758056, "name": "Facebook HQ", "address": "1 Hacker Way"}}),
            json!({"location": {"longitude": -122.425332, "latitude": 37.758056, "name": "Facebook HQ", "address": "1 Hacker Way"}}),
        ),
        (
            json!({"type": "contacts", "contacts": [{"name": {"formatted_name": "Kerry Fisher", "first_name": "Kerry"}, "birthday": "2012-08-18", "phones": [{"phone": "+1 (940) 555-1234", "type": "CELL"}]}]}),
            json!({"contacts": [{"name": {"formatted_name": "Kerry Fisher", "first_name": "Kerry"}, "birthday": "2012-08-18", "phones": [{"phone": "+1 (940) 555-1234", "type": "CELL"}]}]}),
        ),
        same(
            "interactive",
            json!({"type": "list", "header": {"type": "text", "text": "Header"}, "body": {"text": "Pick one"}, "footer": {"text": "Footer"},
            "action": {"button": "Options", "sections": [{"title": "Section 1", "rows": [{"id": "row-1", "title": "Row 1", "description": "First"}, {"id": "row-2", "title": "Row 2"}]}]}}),
        ),
        same(
            "interactive",
            json!({"type": "button", "header": {"type": "image", "image": {"link": format!("{}/p.jpg", files.public)}}, "body": {"text": "Continue?"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}}, {"type": "reply", "reply": {"id": "no", "title": "No"}}]}}),
        ),
        same(
            "interactive",
            json!({"type": "product", "body": {"text": "optional"}, "action": {"catalog_id": "123456789", "product_retailer_id": "SKU-1"}}),
        ),
        same(
            "interactive",
            json!({"type": "product_list", "header": {"type": "text", "text": "Our picks"}, "body": {"text": "Body"},
            "action": {"catalog_id": "123456789", "sections": [{"title": "Section 1", "product_items": [{"product_retailer_id": "SKU-1"}, {"product_retailer_id": "SKU-2"}]}]}}),
        ),
        (
            json!({"type": "template", "template": {"namespace": ns, "name": "order_update", "language": {"policy": "deterministic", "code": "en_US"},
                "components": [
                    {"type": "header", "parameters": [{"type": "text", "text": "42"}]},
                    {"type": "body", "parameters": [{"type": "text", "text": "Jane"},
                        {"type": "currency", "currency": {"fallback_value": "$100.99", "code": "USD", "amount_1000": 100990}},
                        {"type": "date_time", "date_time": {"fallback_value": "February 25, 1977", "day_of_month": 25, "year": 1977, "month": 2}}]},
                    {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": "stop-42"}]},
                    {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "order-42"}]}]}}),
            json!({"rendered": "Order 42\nHi Jane, your order of $100.99 ships on February 25, 1977.\nAcme Shop"}),
        ),
        (
            json!({"type": "template", "template": {"namespace": ns, "name": "invoice_ready", "language": {"policy": "deterministic", "code": "en"},
                "components": [{"type": "header", "parameters": [{"type": "document", "document": {"link": format!("{}/inv-42.pdf", files.public), "filename": "inv-42.pdf"}}]},
                               {"type": "body", "parameters": [{"type": "text", "text": "42"}]}]}}),
            json!({"rendered": "Your invoice 42 is ready."}),
        ),
        (
            json!({"type": "template", "template": {"namespace": ns, "name": "shipping_photo", "language": {"policy": "deterministic", "code": "en"},
                "components": [{"type": "header", "parameters": [{"type": "image", "image": {"id": files.image_id}}]}]}}),
            json!({"rendered": "Your parcel was delivered."}),
        ),
        (
            json!({"type": "template", "template": {"namespace": ns, "name": "product_demo", "language": {"policy": "deterministic", "code": "en"},
                "components": [{"type": "header", "parameters": [{"type": "video", "video": {"link": format!("{}/v.mp4", files.public)}}]}]}}),
            json!({"rendered": "See what's new this week."}),
        ),
        (
            json!({"type": "hsm", "ttl": "P1D", "hsm": {"namespace": ns, "element_name": "otp", "language": {"policy": "deterministic", "code": "en"},
                "localizable_params": [{"default": "123456"}]}}),
            json!({"rendered": "123456 is your verification code. It expires in 10 minutes."}),
        ),
        same(
            "reaction",
            json!({"message_id": "ABGGFlA5FpafAgo6tHcNmNjXmuSf", "emoji": "\u{1f44d}"}),
        ),
        (
            json!({"type": "text", "text": {"body": "Replying"}, "context": {"message_id": "ABGGFlA5FpafAgo6tHcNmNjXmuSf"}}),
            json!({"text": {"body": "Replying"}, "context": {"message_id": "ABGGFlA5FpafAgo6tHcNmNjXmuSf"}}),
        ),
    ]
}

/// `expected` is in `actual`: objects key by key (extra keys in `actual` allowed), anything else
/// equal.
fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => expected
            .iter()
            .all(|(k, v)| actual.get(k).is_some_and(|a| contains(a, v))),
        _ => actual == expected,
    }
}

#[test]
fn every_outbound_type_reaches_the_phone_with_its_statuses() {
    let receiver = Receiver::start();
    let db = TestDb::new(Backend::Sqlite);
    let stack = registered_stack(&receiver, &db);
    let ns = stack.template_namespace();
    let files = media_files(&stack);
    // The consumer writes first, so free-form types are inside the window.
    stack.wanet.consumer_says(CONSUMER, "Hi");
    let mut sent = Vec::new();
    for (mut request, expected) in every_type(&ns, &files) {
        request["to"] = CONSUMER.into();
        let r = post(&stack, request.clone());
        r.expect_status(201);
        assert_eq!(r.body["contacts"][0]["wa_id"], CONSUMER);
        let id = r.body["messages"][0]["id"].as_str().unwrap().to_string();
        sent.push((id, request, expected));
    }
    receiver.wait_until(WAIT, "sent, delivered and read for every type", |b| {
        sent.iter().all(|(id, _, _)| {
            ["sent", "delivered", "read"]
                .iter()
                .all(|s| has_status(b, id, s))
        })
    });
    let phone = stack.wanet.consumer(CONSUMER);
    let received = phone["received"].as_array().unwrap();
    for (id, request, expected) in &sent {
        let frame = received
            .iter()
            .find(|m| m["id"] == id.as_str())
            .unwrap_or_else(|| panic!("the phone did not get {request}"));
        assert_eq!(frame["type"], request["type"], "{frame}");
        assert!(
            contains(&frame["message"], expected),
            "sent {request}\nphone got {frame}\nexpected {expected}"
        );
    }
}

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
        Case {
            body: image(json!({"id": "0b7c5d6e-0000-4000-8000-00000000dead"})),
            status: 404,
            code: 1006,
            details: "Media with id '0b7c5d6e-0000-4000-8000-00000000dead' not found".into(),
        },
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

/// Spec §2.4.6 template and §2.4.7 hsm (the shape; hydration codes 2000–2012 are in
/// tests/templates.rs).
fn template_cases(ns: &str) -> Vec<Case> {
    let lang = json!({"policy": "deterministic", "code": "en"});
    let base = json!({"namespace": ns, "name": "otp", "language": lang});
    let with = |key: &str, value: Value| {
        let mut template = base.clone();
        template[key] = value;
        send("template", template)
    };
    let body_parameter = |parameter: Value| {
        with(
            "components",
            json!([{"type": "body", "parameters": [parameter]}]),
        )
    };
    let hsm = |object: Value| send("hsm", object);
    vec![
        bad(
            send("template", json!({"name": "otp", "language": lang})),
            1008,
            "Parameter 'namespace' is mandatory for type 'template'",
        ),
        bad(
            with("namespace", json!("")),
            2014,
            "The namespace must not be empty",
        ),
        bad(
            with("name", Value::Null),
            1008,
            "Parameter 'name' is mandatory for type 'template'",
        ),
        bad(
            with("language", Value::Null),
            1008,
            "Parameter 'language' is mandatory for type 'template'",
        ),
        bad(
            with("element_name", json!("otp")),
            1010,
            &not_required("element_name", "template"),
        ),
        bad(
            with("caption", json!("c")),
            1010,
            &not_required("caption", "template"),
        ),
        bad(
            with("id", json!("a")),
            1010,
            &not_required("id", "template"),
        ),
        bad(
            with("language", json!({"code": "en", "policy": "best"})),
            1009,
            "Parameter 'policy' has invalid value 'best'",
        ),
        bad(
            with("language", json!({"code": "en"})),
            1008,
            "Missing mandatory parameter 'policy'",
        ),
        bad(
            with("language", json!({"policy": "deterministic"})),
            1008,
            "Missing mandatory parameter 'code'",
        ),
        bad(
            with("fallback_lg", json!("en")),
            1010,
            "Parameter 'fallback_lg' is not required for parameter 'language'",
        ),
        bad(
            with("components", json!({})),
            1009,
            "Parameter 'components' has invalid value '{}'",
        ),
        bad(
            with("components", json!([{"type": "sidebar"}])),
            1009,
            "Parameter 'type' has invalid value 'sidebar'",
        ),
        bad(
            with(
                "components",
                json!([{"type": "button", "sub_type": "call", "index": "0"}]),
            ),
            1009,
            "Parameter 'sub_type' has invalid value 'call'",
        ),
        bad(
            with(
                "components",
                json!([{"type": "button", "sub_type": "url", "parameters": []}]),
            ),
            1008,
            "Missing mandatory parameter 'index'",
        ),
        bad(
            body_parameter(json!({"type": "location"})),
            1009,
            "Parameter 'type' has invalid value 'location'",
        ),
        bad(
            body_parameter(json!({"type": "text"})),
            1008,
            "Parameter 'text' is mandatory for type 'text'",
        ),
        bad(
            body_parameter(
                json!({"type": "currency", "currency": {"fallback_value": "$1", "code": "USD"}}),
            ),
            1008,
            "Missing mandatory parameter 'amount_1000'",
        ),
        bad(
            body_parameter(
                json!({"type": "currency", "currency": {"fallback_value": "$1", "code": "USD", "amount_1000": 1.5}}),
            ),
            1009,
            "Parameter 'amount_1000' has invalid value '1.5'",
        ),
        bad(
            body_parameter(
                json!({"type": "currency", "currency": {"fallback_value": "$1", "amount_1000": 1000}}),
            ),
            1008,
            "Missing mandatory parameter 'code'",
        ),
        bad(
            body_parameter(json!({"type": "date_time", "date_time": {"timestamp": 1485470276}})),
            1008,
            "Missing mandatory parameter 'fallback_value'",
        ),
        bad(
            with(
                "components",
                json!([{"type": "header", "parameters": [{"type": "image", "image": {"id": "a", "link": "https://a.example/x"}}]}]),
            ),
            1010,
            "Exactly one of the following parameters must be present: 'id', 'link'",
        ),
        bad(
            hsm(json!({"namespace": ns, "language": lang})),
            1008,
            "Parameter 'element_name' is mandatory for type 'hsm'",
        ),
        bad(
            hsm(json!({"element_name": "otp", "language": lang})),
            1008,
            "Parameter 'namespace' is mandatory for type 'hsm'",
        ),
        bad(
            hsm(json!({"namespace": ns, "element_name": "otp"})),
            1008,
            "Parameter 'language' is mandatory for type 'hsm'",
        ),
        bad(
            hsm(json!({"namespace": ns, "element_name": "otp", "language": lang, "caption": "c"})),
            1010,
            &not_required("caption", "hsm"),
        ),
        bad(
            hsm(json!({"namespace": ns, "element_name": "otp", "language": lang, "name": "otp"})),
            1010,
            &not_required("name", "hsm"),
        ),
        bad(
            hsm(
                json!({"namespace": ns, "element_name": "otp", "language": lang, "fallback_lc": "US"}),
            ),
            1010,
            "Parameter 'fallback_lc' is not required for parameter 'language'",
        ),
        bad(
            hsm(
                json!({"namespace": ns, "element_name": "otp", "language": lang, "localizable_params": [{"currency": {}}]}),
            ),
            1008,
            "Missing mandatory parameter 'default'",
        ),
    ]
}

/// Spec §6.2 and §6.5: the coreapp's checks against the known templates (wanet's seed:
/// `otp` has one body parameter, `invoice_ready` a document header, `order_update` a text header,
/// three body parameters and a URL button; `spam_blast` is REJECTED, `new_offer` PENDING).
fn hydration_cases(ns: &str) -> Vec<Case> {
    let template = |name: &str, code: &str, components: Value| {
        send(
            "template",
            json!({"namespace": ns, "name": name, "language": {"policy": "deterministic", "code": code}, "components": components}),
        )
    };
    let text = |t: &str| json!({"type": "text", "text": t});
    let otp = |parameters: Vec<Value>| {
        template(
            "otp",
            "en",
            json!([{"type": "body", "parameters": parameters}]),
        )
    };
    let not_found = |body: Value, code: u64, details: &str| Case {
        body,
        status: 404,
        code,
        details: details.to_string(),
    };
    let whitespace =
        "Parameters must not contain new lines, tabs or more than 4 consecutive spaces";
    vec![
        bad(
            otp(vec![]),
            2000,
            "The body expects 1 parameters, 0 were sent",
        ),
        bad(
            otp(vec![text("1"), text("2")]),
            2000,
            "The body expects 1 parameters, 2 were sent",
        ),
        not_found(
            template("no_such_template", "en", json!([])),
            2001,
            "Template 'no_such_template' does not exist in the 'en' translation",
        ),
        not_found(
            template(
                "new_offer",
                "en",
                json!([{"type": "body", "parameters": [text("Jo")]}]),
            ),
            2001,
            "Template 'new_offer' is not active (status PENDING)",
        ),
        not_found(
            template("otp", "zu", json!([])),
            2003,
            &format!("No language pack for namespace '{ns}' and language 'zu'"),
        ),
        bad(
            otp(vec![text(&"9".repeat(1025))]),
            2004,
            "A parameter is longer than 1024 characters",
        ),
        bad(
            otp(vec![text(&"9".repeat(1000))]),
            2005,
            "Hydrated body is longer than 1024 characters",
        ),
        bad(otp(vec![text("12\n34")]), 2006, whitespace),
        bad(otp(vec![text("1     2")]), 2006, whitespace),
        bad(
            template(
                "invoice_ready",
                "en",
                json!([
            {"type": "header", "parameters": [{"type": "document", "document": {"link": "https://example.com/i.docx"}}]},
            {"type": "body", "parameters": [text("1")]}]),
            ),
            2008,
            "Document headers must be PDF files",
        ),
        bad(
            template(
                "invoice_ready",
                "en",
                json!([{"type": "body", "parameters": [text("1")]}]),
            ),
            2009,
            "The template's document header needs a header parameter",
        ),
        bad(
            template(
                "order_update",
                "en_US",
                json!([
            {"type": "header", "parameters": [text("7")]},
            {"type": "body", "parameters": [text("Jo"), text("x"), text("y")]},
            {"type": "button", "sub_type": "url", "index": "1", "parameters": [text("a b")]}]),
            ),
            2010,
            "'https://shop.example.com/track/a b' is not a valid URL",
        ),
        bad(
            otp(vec![
                json!({"type": "image", "image": {"link": "https://example.com/x.jpg"}}),
            ]),
            2012,
            "Parameter of type 'image' cannot be used in the body",
        ),
        bad(
            template("spam_blast", "en", json!([])),
            2060,
            "Template 'spam_blast' was rejected",
        ),
        bad(
            send(
                "template",
                json!({"namespace": "not_our_namespace", "name": "otp", "language": {"policy": "deterministic", "code": "en"}}),
            ),
            1009,
            "The namespace does not correspond to the WABA id",
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

fn validation_cases(ns: &str) -> Vec<Case> {
    [
        top_level_cases(),
        text_and_media_cases(),
        location_and_contacts_cases(),
        interactive_list_cases(),
        interactive_button_and_product_cases(),
        template_cases(ns),
        hydration_cases(ns),
        reaction_cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[test]
fn every_validation_rule_answers_code_status_and_details() {
    let receiver = Receiver::start();
    let db = TestDb::new(Backend::Sqlite);
    let stack = registered_stack(&receiver, &db);
    let ns = stack.template_namespace();
    let mut failures = Vec::new();
    for case in validation_cases(&ns) {
        let r = post(&stack, case.body.clone());
        let got = (r.status, r.code(), r.details().to_string());
        if got != (case.status, case.code, case.details.clone()) {
            failures.push(format!(
                "for {}\n  want {} {} {:?}\n  got  {got:?}",
                case.body, case.status, case.code, case.details
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
