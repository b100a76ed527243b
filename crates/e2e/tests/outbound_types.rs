//! Every outbound message type (issue 4): the 201, the frame the phone received, and the status
//! webhooks that follow; and the validation rules that need the network (templates, hydration,
//! uploaded media) with their code, HTTP status and `details`. The rules checked before the network
//! is asked are tested in process: `crates/coreapp/tests/outbound_validation.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::files::sha256_hex;
use e2e::files::{serve_files, ServedFile};
use e2e::stack::{env, Messaging, FAST_PHONES};
use e2e::webhooks::has_status;
use e2e::Receiver;
use serde_json::{json, Value};
use std::time::Duration;
use wa_store::testing::TestDb;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);
const CONSUMER: &str = "16315550100";

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

/// A media id that was never uploaded: checked only once the network is ready.
fn media_cases() -> Vec<Case> {
    vec![Case {
        body: send(
            "image",
            json!({"id": "0b7c5d6e-0000-4000-8000-00000000dead"}),
        ),
        status: 404,
        code: 1006,
        details: "Media with id '0b7c5d6e-0000-4000-8000-00000000dead' not found".into(),
    }]
}

/// The rules that need the network (templates, hydration, uploaded media); every rule checked
/// before the network is asked is tested in process: `crates/coreapp/tests/outbound_validation.rs`.
fn validation_cases(ns: &str) -> Vec<Case> {
    [media_cases(), template_cases(ns), hydration_cases(ns)]
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
