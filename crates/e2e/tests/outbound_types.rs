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

fn namespace(stack: &Messaging) -> String {
    let r = stack
        .api()
        .call("GET", "/v1/templates", Some(&stack.admin), None);
    r.expect_status(200);
    r.body["templates"][0]["namespace"]
        .as_str()
        .unwrap()
        .to_string()
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

fn upload(stack: &Messaging, mime: &str, body: &[u8]) -> String {
    let request = stack
        .api()
        .request("POST", "/v1/media")
        .header("Authorization", &stack.admin)
        .header("Content-Type", mime)
        .body(body.to_vec());
    let r = stack.api().send(request);
    r.expect_status(201);
    r.body["media"][0]["id"].as_str().unwrap().to_string()
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
    stack
        .api()
        .call(
            "POST",
            "/v1/settings/application/media/providers",
            Some(&stack.admin),
            Some(provider),
        )
        .expect_status(200);
    MediaFiles {
        image_id: upload(stack, "image/jpeg", &jpeg),
        audio_id: upload(stack, "audio/mpeg", &mp3),
        document_id: upload(stack, "application/pdf", &pdf),
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
    let ns = namespace(&stack);
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

/// (request without `to` unless it tests `to`, HTTP status, code, details).
fn validation_cases(ns: &str) -> Vec<(Value, u16, u64, String)> {
    let t = |template: Value| json!({"to": CONSUMER, "type": "template", "template": template});
    let lang = json!({"policy": "deterministic", "code": "en"});
    let list = |sections: Value| json!({"to": CONSUMER, "type": "interactive", "interactive": {"type": "list", "body": {"text": "b"}, "action": {"button": "Go", "sections": sections}}});
    let rows = |n: usize| {
        Value::Array(
            (0..n)
                .map(|i| json!({"id": format!("r{i}"), "title": "Row"}))
                .collect(),
        )
    };
    let case = |body: Value, status: u16, code: u64, details: &str| {
        (body, status, code, details.to_string())
    };
    vec![
        case(
            json!({"type": "text", "text": {"body": "x"}}),
            400,
            1008,
            "Missing mandatory parameter 'to'",
        ),
        case(
            json!({"to": CONSUMER, "type": "fax"}),
            400,
            1009,
            "Parameter 'type' has invalid value 'fax'",
        ),
        case(
            json!({"to": CONSUMER, "recipient_type": "group", "text": {"body": "x"}}),
            400,
            1009,
            "Parameter 'recipient_type' has invalid value 'group'",
        ),
        case(
            json!({"to": CONSUMER, "preview_url": "yes", "text": {"body": "x"}}),
            400,
            1009,
            "Parameter 'preview_url' has invalid value 'yes'",
        ),
        case(
            json!({"to": CONSUMER, "ttl": "", "text": {"body": "x"}}),
            400,
            1009,
            "Empty TTL value not allowed",
        ),
        case(
            json!({"to": CONSUMER, "ttl": "soon", "text": {"body": "x"}}),
            400,
            1009,
            "Parameter 'ttl' has invalid value 'soon'",
        ),
        case(
            json!({"to": CONSUMER, "type": "image"}),
            400,
            1008,
            "Parameter 'image' is mandatory for type 'image'",
        ),
        case(
            json!({"to": CONSUMER, "type": "image", "image": {"id": "a"}, "text": {"body": "x"}}),
            400,
            1010,
            "Parameter 'text' is not required for type 'image'",
        ),
        case(
            json!({"to": CONSUMER, "text": {"body": "x".repeat(4097)}}),
            400,
            1001,
            "Message body is longer than 4096 characters",
        ),
        case(
            json!({"to": CONSUMER, "text": {"body": "x", "caption": "c"}}),
            400,
            1010,
            "Parameter 'caption' is not required for type 'text'",
        ),
        case(
            json!({"to": CONSUMER, "type": "audio", "audio": {"id": "a", "caption": "c"}}),
            400,
            1010,
            "Parameter 'caption' is not required for type 'audio'",
        ),
        case(
            json!({"to": CONSUMER, "type": "sticker", "sticker": {"id": "a", "caption": "c"}}),
            400,
            1010,
            "Parameter 'caption' is not required for type 'sticker'",
        ),
        case(
            json!({"to": CONSUMER, "type": "video", "video": {"id": "a", "filename": "v.mp4"}}),
            400,
            1010,
            "Parameter 'filename' is not required for type 'video'",
        ),
        case(
            json!({"to": CONSUMER, "type": "image", "image": {"caption": "c"}}),
            400,
            1008,
            "Atleast one of the following parameters must be present: 'id', 'link'",
        ),
        case(
            json!({"to": CONSUMER, "type": "image", "image": {"id": "a", "link": "https://a.example/x.jpg"}}),
            400,
            1010,
            "Exactly one of the following parameters must be present: 'id', 'link'",
        ),
        case(
            json!({"to": CONSUMER, "type": "image", "image": {"link": "a.jpg"}}),
            400,
            1009,
            "Parameter 'link' has invalid value 'a.jpg'",
        ),
        case(
            json!({"to": CONSUMER, "type": "location", "location": {"latitude": 1}}),
            400,
            1008,
            "Missing mandatory parameter 'longitude'",
        ),
        case(
            json!({"to": CONSUMER, "type": "location", "location": {"latitude": "north", "longitude": 1}}),
            400,
            1009,
            "Parameter 'latitude' has invalid value 'north'",
        ),
        case(
            json!({"to": CONSUMER, "type": "contacts", "contacts": [{"name": {"first_name": "K"}}]}),
            400,
            1008,
            "Missing mandatory parameter 'formatted_name'",
        ),
        case(
            json!({"to": CONSUMER, "type": "contacts", "contacts": {"name": "K"}}),
            400,
            1009,
            "Parameter 'contacts' has invalid value '{\"name\":\"K\"}'",
        ),
        case(
            json!({"to": CONSUMER, "type": "interactive", "interactive": {"type": "carousel"}}),
            400,
            1009,
            "Parameter 'type' has invalid value 'carousel'",
        ),
        case(
            json!({"to": CONSUMER, "type": "interactive", "interactive": {"type": "list", "action": {}}}),
            400,
            1008,
            "Parameter 'body' is mandatory for interactive type 'list'",
        ),
        case(
            list(json!([])),
            400,
            2015,
            "Between 1 and 10 sections are allowed; each needs a title when there are several",
        ),
        case(
            list(json!([{"title": "A", "rows": rows(11)}])),
            400,
            2016,
            "Every section needs at least 1 row, and at most 10 rows are allowed in all",
        ),
        case(
            list(json!([{"title": "A", "rows": [{"id": "a", "title": "x".repeat(25)}]}])),
            400,
            1009,
            "Parameter 'title' must be at most 24 characters long",
        ),
        case(
            json!({"to": CONSUMER, "type": "interactive", "interactive": {"type": "button", "header": {"type": "sticker"}, "body": {"text": "b"}, "action": {"buttons": []}}}),
            400,
            2036,
            "Header type 'sticker' is not allowed for interactive type 'button'",
        ),
        case(
            json!({"to": CONSUMER, "type": "interactive", "interactive": {"type": "product_list", "body": {"text": "b"}, "action": {"catalog_id": "1", "sections": [{"title": "S", "product_items": []}]}}}),
            400,
            2023,
            "Every section needs at least 1 product, and at most 30 products are allowed in all",
        ),
        case(
            t(json!({"name": "otp", "language": lang})),
            400,
            1008,
            "Parameter 'namespace' is mandatory for type 'template'",
        ),
        case(
            t(json!({"namespace": "", "name": "otp", "language": lang})),
            400,
            2014,
            "The namespace must not be empty",
        ),
        case(
            t(json!({"namespace": ns, "name": "otp", "element_name": "otp", "language": lang})),
            400,
            1010,
            "Parameter 'element_name' is not required for type 'template'",
        ),
        case(
            t(
                json!({"namespace": ns, "name": "otp", "language": {"code": "en", "policy": "best"}}),
            ),
            400,
            1009,
            "Parameter 'policy' has invalid value 'best'",
        ),
        case(
            t(json!({"namespace": ns, "name": "otp", "language": {"code": "en"}})),
            400,
            1008,
            "Missing mandatory parameter 'policy'",
        ),
        case(
            t(json!({"namespace": ns, "name": "otp", "language": lang, "fallback_lg": "en"})),
            400,
            1010,
            "Parameter 'fallback_lg' is not required for parameter 'language'",
        ),
        case(
            json!({"to": CONSUMER, "type": "hsm", "hsm": {"namespace": ns, "language": lang}}),
            400,
            1008,
            "Parameter 'element_name' is mandatory for type 'hsm'",
        ),
        case(
            json!({"to": CONSUMER, "type": "reaction", "reaction": {"emoji": "x"}}),
            400,
            1008,
            "Missing mandatory parameter 'message_id'",
        ),
        case(
            json!({"to": CONSUMER, "text": {"body": "x"}, "context": {"id": "x"}}),
            400,
            1008,
            "Missing mandatory parameter 'message_id'",
        ),
        case(
            json!({"to": "not a number", "text": {"body": "x"}}),
            400,
            1013,
            "Recipient 'not a number' is not a valid WhatsApp user",
        ),
        case(
            json!({"to": "+1 631 555 0000", "text": {"body": "x"}}),
            400,
            1021,
            "Cannot send a message to yourself",
        ),
    ]
}

#[test]
fn every_validation_rule_answers_code_status_and_details() {
    let receiver = Receiver::start();
    let db = TestDb::new(Backend::Sqlite);
    let stack = registered_stack(&receiver, &db);
    let ns = namespace(&stack);
    for (body, status, code, details) in validation_cases(&ns) {
        let r = post(&stack, body.clone());
        assert_eq!(
            (r.status, r.code(), r.details()),
            (status, code, details.as_str()),
            "for {body}: {:#?}",
            r.body
        );
    }
}
