//! Message templates (issue 4): kept by wanet per business, loaded and refreshed by the coreapp,
//! every 2000-series error a send can get, both language policies, the rendered text on the
//! phone, the `GET /v1/templates` extension, and template ttl expiry (410) on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{env, Messaging, FAST_PHONES};
use e2e::{Receiver, Signal};
use serde_json::{json, Value};
use std::time::Duration;
use wa_store::testing::TestDb;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);
/// Never wrote to the business: only templates reach them.
const CONSUMER: &str = "16315550300";

fn status_of(bodies: &[Value], id: &str, status: &str) -> Option<Value> {
    bodies
        .iter()
        .filter_map(|b| b["statuses"].as_array())
        .flatten()
        .find(|s| s["id"] == id && s["status"] == status)
        .cloned()
}

fn start(
    receiver: &Receiver,
    db: &TestDb,
    wanet_args: &[&str],
    core_env: &[(&str, &str)],
) -> Messaging {
    let mut vars = env(&[("ONPREM__DATABASE__URL", &db.url)]);
    vars.extend(env(core_env));
    let stack = Messaging::start(&vars, wanet_args, &receiver.url());
    stack.register();
    stack
}

fn template(ns: &str, name: &str, code: &str, policy: &str, components: Value) -> Value {
    json!({"to": CONSUMER, "type": "template", "template": {
        "namespace": ns, "name": name, "language": {"policy": policy, "code": code}, "components": components}})
}

fn send(stack: &Messaging, body: Value) -> e2e::Reply {
    stack
        .api()
        .call("POST", "/v1/messages", Some(&stack.admin), Some(body))
}

fn sent_id(reply: &e2e::Reply) -> String {
    reply.expect_status(201);
    reply.body["messages"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// What the phone shows for message `id`, once delivered.
fn rendered(stack: &Messaging, receiver: &Receiver, id: &str) -> String {
    receiver.wait_until(WAIT, "delivered", |b| {
        status_of(b, id, "delivered").is_some()
    });
    let phone = stack.wanet.consumer(CONSUMER);
    let frame = phone["received"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .cloned()
        .unwrap();
    frame["message"]["rendered"].as_str().unwrap().to_string()
}

fn text(t: &str) -> Value {
    json!({"type": "text", "text": t})
}

/// `order_update` (header text, body, quick-reply and URL buttons) with this header parameter.
fn order_with_header(ns: &str, header: &str) -> Value {
    template(
        ns,
        "order_update",
        "en_US",
        "deterministic",
        json!([
            {"type": "header", "parameters": [text(header)]},
            {"type": "body", "parameters": [text("Jo"), text("2 books"), text("Monday")]},
            {"type": "button", "sub_type": "url", "index": "1", "parameters": [text("7")]}]),
    )
}

fn body(params: Vec<Value>) -> Value {
    json!([{"type": "body", "parameters": params}])
}

#[test]
fn templates_are_listed_hydrated_and_refused_with_their_codes() {
    let receiver = Receiver::start();
    let db = TestDb::new(Backend::Sqlite);
    let stack = start(&receiver, &db, FAST_PHONES, &[]);
    let api = stack.api();

    // The extension lists what the coreapp loaded at initialization.
    let r = api.call("GET", "/v1/templates", Some(&stack.admin), None);
    r.expect_status(200);
    let listed = r.body["templates"].as_array().unwrap();
    assert!(listed.len() >= 8, "{listed:?}");
    let ns = listed[0]["namespace"].as_str().unwrap().to_string();
    let hello = listed
        .iter()
        .find(|t| t["name"] == "hello_world" && t["language"] == "en_US")
        .unwrap();
    assert_eq!(hello["status"], "APPROVED");
    assert_eq!(hello["category"], "UTILITY");
    assert!(hello["components"].is_array());
    assert!(r.body["meta"]["version"].is_string());
    api.call("GET", "/v1/templates", None, None)
        .expect_status(401);

    // Templates reach a consumer who never wrote (no window needed) and render on the phone.
    let id = sent_id(&send(
        &stack,
        template(&ns, "hello_world", "en_US", "deterministic", json!([])),
    ));
    assert_eq!(
        rendered(&stack, &receiver, &id),
        "Hello World! Thank you for choosing our service."
    );

    // Language policies: fallback picks another translation; deterministic does not.
    let id = sent_id(&send(
        &stack,
        template(&ns, "hello_world", "pt_PT", "fallback", json!([])),
    ));
    assert_eq!(
        rendered(&stack, &receiver, &id),
        "Olá, mundo! Obrigado por escolher nosso serviço."
    );
    let id = sent_id(&send(
        &stack,
        template(
            &ns,
            "order_update",
            "en_GB",
            "fallback",
            json!([
        {"type": "header", "parameters": [text("7")]},
        {"type": "body", "parameters": [text("Jo"), text("2 books"), text("Monday")]},
        {"type": "button", "sub_type": "url", "index": "1", "parameters": [text("7")]}]),
        ),
    ));
    assert_eq!(
        rendered(&stack, &receiver, &id),
        "Order 7\nHi Jo, your order of 2 books ships on Monday.\nAcme Shop"
    );
    let r = send(
        &stack,
        template(&ns, "hello_world", "pt_PT", "deterministic", json!([])),
    );
    r.expect_error(404, 2003);
    let r = send(
        &stack,
        template(&ns, "hello_world", "en", "deterministic", json!([])),
    );
    r.expect_error(404, 2001);
    assert_eq!(
        r.details(),
        "Template 'hello_world' does not exist in the 'en' translation"
    );

    let otp = |params: Vec<Value>| template(&ns, "otp", "en", "deterministic", body(params));
    let cases: Vec<(Value, u16, u64)> = vec![
        (otp(vec![]), 400, 2000),
        (otp(vec![text("1"), text("2")]), 400, 2000),
        (
            template(&ns, "no_such_template", "en", "deterministic", json!([])),
            404,
            2001,
        ),
        (
            template(&ns, "otp", "zu", "deterministic", json!([])),
            404,
            2003,
        ),
        (otp(vec![text(&"9".repeat(1025))]), 400, 2004),
        (otp(vec![text(&"9".repeat(1000))]), 400, 2005),
        (otp(vec![text("12\n34")]), 400, 2006),
        (
            template(
                &ns,
                "invoice_ready",
                "en",
                "deterministic",
                json!([
            {"type": "header", "parameters": [{"type": "document", "document": {"link": "https://example.com/i.docx"}}]},
            {"type": "body", "parameters": [text("1")]}]),
            ),
            400,
            2008,
        ),
        (
            template(
                &ns,
                "invoice_ready",
                "en",
                "deterministic",
                body(vec![text("1")]),
            ),
            400,
            2009,
        ),
        (
            template(
                &ns,
                "order_update",
                "en_US",
                "deterministic",
                json!([
            {"type": "header", "parameters": [text("7")]},
            {"type": "body", "parameters": [text("Jo"), text("x"), text("y")]},
            {"type": "button", "sub_type": "url", "index": "1", "parameters": [text("a b")]}]),
            ),
            400,
            2010,
        ),
        (
            otp(vec![
                json!({"type": "image", "image": {"link": "https://example.com/x.jpg"}}),
            ]),
            400,
            2012,
        ),
        (order_with_header(&ns, "*7*"), 400, 2007),
        (order_with_header(&ns, "7 \u{1f4e6}"), 400, 2007),
        (
            template("", "otp", "en", "deterministic", json!([])),
            400,
            2014,
        ),
        (
            template(&ns, "spam_blast", "en", "deterministic", json!([])),
            400,
            2060,
        ),
        (
            template(
                &ns,
                "new_offer",
                "en",
                "deterministic",
                body(vec![text("Jo")]),
            ),
            404,
            2001,
        ),
        (
            template("not_our_namespace", "otp", "en", "deterministic", json!([])),
            400,
            1009,
        ),
    ];
    for (request, status, code) in cases {
        let r = send(&stack, request.clone());
        assert_eq!(
            (r.status, r.code()),
            (status, code),
            "for {request}: {:#?}",
            r.body
        );
        assert!(!r.details().is_empty(), "{:#?}", r.body);
    }

    // Formatting is refused in the header only; the body may format.
    let r = send(&stack, order_with_header(&ns, "_7_"));
    r.expect_error(400, 2007);
    assert_eq!(
        r.details(),
        "Header parameters must not contain formatting characters or emoji ('_')"
    );
    assert_eq!(
        r.body["errors"][0]["title"],
        "Template Format Character Policy Violated"
    );
    let mut formatted_body = order_with_header(&ns, "7");
    formatted_body["template"]["components"][1]["parameters"][0] = text("*Jo* \u{1f600}");
    let id = sent_id(&send(&stack, formatted_body));
    assert_eq!(
        rendered(&stack, &receiver, &id),
        "Order 7\nHi *Jo* \u{1f600}, your order of 2 books ships on Monday.\nAcme Shop"
    );

    // Paused and disabled templates are refused once the coreapp knows.
    let patch = |name: &str, status: &str| {
        let client = reqwest::blocking::Client::new();
        let url = format!(
            "http://127.0.0.1:{}/control/templates/{ns}/{name}/en",
            stack.wanet.control_port
        );
        let r = client
            .patch(url)
            .json(&json!({"status": status}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    };
    patch("otp", "PAUSED");
    // The network tells the coreapp of the change, which refreshes its templates: sends of otp
    // are then refused at once. (One sent before the refresh lands is refused by the network at
    // delivery, a failed status with the same 2061; wanet's model tests pin that.)
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let r = send(&stack, otp(vec![text("123456")]));
        if r.status == 400 {
            assert_eq!(r.body["errors"][0]["code"], 2061, "{}", r.body);
            assert_eq!(r.body["errors"][0]["title"], "Template Paused");
            break;
        }
        r.expect_status(201);
        assert!(
            std::time::Instant::now() < deadline,
            "the pause never reached the coreapp"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // A template added in WhatsApp Manager is usable at once: the miss triggers a refresh
    // (misses refresh at most once a second; the cases above missed a moment ago).
    std::thread::sleep(Duration::from_millis(1100));
    let (status, created) = stack.wanet.post(
        "/control/templates",
        json!({
        "namespace": ns, "name": "welcome_back", "language": "en", "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Welcome back, {{1}}!"}]}),
    );
    assert_eq!(status, 201, "{created}");
    let welcome = template(
        &ns,
        "welcome_back",
        "en",
        "deterministic",
        body(vec![text("Jo")]),
    );
    let id = sent_id(&send(&stack, welcome));
    assert_eq!(rendered(&stack, &receiver, &id), "Welcome back, Jo!");
    // A call button with a number that cannot be dialled: 2011.
    let (status, created) = stack.wanet.post("/control/templates", json!({
        "namespace": ns, "name": "call_us", "language": "en",
        "components": [{"type": "BODY", "text": "Call us"},
                       {"type": "BUTTONS", "buttons": [{"type": "PHONE_NUMBER", "text": "Call", "phone_number": "555-CALL"}]}]}));
    assert_eq!(status, 201, "{created}");
    std::thread::sleep(Duration::from_millis(1100));
    send(
        &stack,
        template(&ns, "call_us", "en", "deterministic", json!([])),
    )
    .expect_error(400, 2011);
    // ... and the refreshes brought otp's pause along.
    send(&stack, otp(vec![text("1")])).expect_error(400, 2061);
    patch("otp", "DISABLED");
    std::thread::sleep(Duration::from_millis(1100));
    // A miss refreshes again (at most once a second) and the next otp send sees DISABLED.
    send(
        &stack,
        template(&ns, "still_missing", "en", "deterministic", json!([])),
    )
    .expect_error(404, 2001);
    send(&stack, otp(vec![text("1")])).expect_error(400, 2062);

    // The legacy hsm renders too.
    let hsm = json!({"to": CONSUMER, "type": "hsm", "hsm": {"namespace": ns, "element_name": "welcome_back",
        "language": {"policy": "deterministic", "code": "en"}, "localizable_params": [{"default": "Kim"}]}});
    let id = sent_id(&send(&stack, hsm));
    assert_eq!(rendered(&stack, &receiver, &id), "Welcome back, Kim!");

    // Deleted in WhatsApp Manager: gone after the next refresh.
    let client = reqwest::blocking::Client::new();
    let url = format!(
        "http://127.0.0.1:{}/control/templates/{ns}/welcome_back/en",
        stack.wanet.control_port
    );
    assert_eq!(client.delete(url).send().unwrap().status(), 204);
    let (_, all) = stack.wanet.get("/control/templates");
    assert!(all["templates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["name"] != "welcome_back"));
}

/// Phones whose app cannot display template buttons (wanet's `no_template_buttons` profile): a
/// template with buttons is refused with 501/2013 before the 201; when the app changed after the
/// coreapp asked (its answer is cached), the network fails the message with a `failed` status
/// 2013 instead. Templates without buttons, and other messages, reach such phones.
#[test]
fn templates_with_buttons_need_an_app_that_shows_them() {
    let receiver = Receiver::start();
    let db = TestDb::new(Backend::Sqlite);
    let stack = start(&receiver, &db, FAST_PHONES, &[]);
    let ns = stack
        .api()
        .call("GET", "/v1/templates", Some(&stack.admin), None)
        .body["templates"][0]["namespace"]
        .as_str()
        .unwrap()
        .to_string();
    let to = |mut request: Value, wa_id: &str| {
        request["to"] = wa_id.into();
        request
    };
    let set_profile = |wa_id: &str| {
        let body = json!({"wa_id": wa_id, "profile": "no_template_buttons"});
        let (status, reply) = stack.wanet.post("/control/consumers", body);
        assert_eq!(status, 201, "{reply}");
        assert_eq!(reply["profile"], "no_template_buttons");
    };

    let old_phone = "16315550310";
    set_profile(old_phone);
    let r = send(&stack, to(order_with_header(&ns, "7"), old_phone));
    r.expect_error(501, 2013);
    assert_eq!(
        r.body["errors"][0]["title"],
        "Buttons are unsupported by the receiver"
    );
    assert_eq!(
        r.details(),
        "The recipient's WhatsApp cannot display the buttons of this template."
    );
    let hello = template(&ns, "hello_world", "en_US", "deterministic", json!([]));
    let plain = sent_id(&send(&stack, to(hello, old_phone)));

    // Asked (and cached) while the app still showed buttons; changed before the next send.
    let updated_later = "16315550311";
    let first = sent_id(&send(
        &stack,
        to(order_with_header(&ns, "7"), updated_later),
    ));
    receiver.wait_until(WAIT, "the first order delivered", |b| {
        status_of(b, &first, "delivered").is_some()
    });
    set_profile(updated_later);
    let second = sent_id(&send(
        &stack,
        to(order_with_header(&ns, "8"), updated_later),
    ));
    let bodies = receiver.wait_until(WAIT, "the 2013 failure and the plain delivery", |b| {
        status_of(b, &second, "failed").is_some() && status_of(b, &plain, "delivered").is_some()
    });
    let failed = status_of(&bodies, &second, "failed").unwrap();
    assert_eq!(failed["errors"][0]["code"], 2013, "{failed}");
    assert_eq!(
        failed["errors"][0]["title"],
        "Buttons are unsupported by the receiver"
    );
    assert!(status_of(&bodies, &second, "delivered").is_none());
    let received = stack.wanet.consumer(updated_later)["received_count"].clone();
    assert_eq!(received, 1);
}

/// While the network does not answer, a template the coreapp does not know cannot be fetched:
/// 404/2002.
#[test]
fn a_template_that_cannot_be_fetched_is_2002() {
    let receiver = Receiver::start();
    let db = TestDb::new(Backend::Sqlite);
    let stack = start(
        &receiver,
        &db,
        FAST_PHONES,
        &[("ONPREM__COREAPP__NETWORK_REQUEST_TIMEOUT_SECS", "2")],
    );
    let ns = stack
        .api()
        .call("GET", "/v1/templates", Some(&stack.admin), None)
        .body["templates"][0]["namespace"]
        .as_str()
        .unwrap()
        .to_string();
    stack.wanet.service.signal(Signal::STOP);
    let r = send(
        &stack,
        template(&ns, "unknown_yet", "en", "deterministic", json!([])),
    );
    stack.wanet.service.signal(Signal::CONT);
    r.expect_error(404, 2002);
}

/// A template whose ttl passes before the phone gets it fails with 410 and is never shown.
fn ttl_expiry(backend: Backend) {
    let receiver = Receiver::start();
    let db = TestDb::new(backend);
    let slow_phones = [
        "--delivery-latency-ms",
        "3000",
        "--read-latency-ms",
        "20",
        "--read-probability",
        "1.0",
    ];
    let stack = start(
        &receiver,
        &db,
        &slow_phones,
        &[("ONPREM__COREAPP__MIN_MESSAGE_TTL_SECS", "1")],
    );
    let ns = stack
        .api()
        .call("GET", "/v1/templates", Some(&stack.admin), None)
        .body["templates"][0]["namespace"]
        .as_str()
        .unwrap()
        .to_string();
    let mut expiring = template(&ns, "hello_world", "en_US", "deterministic", json!([]));
    expiring["ttl"] = json!(1);
    let id = sent_id(&send(&stack, expiring));
    let mut lasting = template(&ns, "hello_world", "en_US", "deterministic", json!([]));
    lasting["ttl"] = json!("PT1H");
    let kept = sent_id(&send(&stack, lasting));
    let bodies = receiver.wait_until(WAIT, "the 410 failure and the other's delivery", |b| {
        status_of(b, &id, "failed").is_some() && status_of(b, &kept, "delivered").is_some()
    });
    assert!(status_of(&bodies, &id, "sent").is_some());
    let failed = status_of(&bodies, &id, "failed").unwrap();
    assert_eq!(failed["errors"][0]["code"], 410, "{failed}");
    assert_eq!(failed["errors"][0]["title"], "Message expired");
    assert!(status_of(&bodies, &id, "delivered").is_none());
    let phone = stack.wanet.consumer(CONSUMER);
    let ids: Vec<&Value> = phone["received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(ids, [&json!(kept)]);
}

#[test]
fn template_ttl_expires_on_sqlite() {
    ttl_expiry(Backend::Sqlite);
}

#[test]
fn template_ttl_expires_on_mysql() {
    ttl_expiry(Backend::Mysql);
}

#[test]
fn template_ttl_expires_on_postgres() {
    ttl_expiry(Backend::Postgres);
}

/// Messages that cannot reach the network in time fail in the coreapp: templates past their
/// ttl with 410, other messages past the longest wait with 408; neither is ever `sent`.
fn expiry_while_the_network_hangs(backend: Backend) {
    let receiver = Receiver::start();
    let db = TestDb::new(backend);
    let core_env = [
        ("ONPREM__COREAPP__MIN_MESSAGE_TTL_SECS", "1"),
        ("ONPREM__COREAPP__MAX_PENDING_MESSAGE_AGE_SECS", "1"),
        ("ONPREM__COREAPP__NETWORK_REQUEST_TIMEOUT_SECS", "2"),
    ];
    let stack = start(&receiver, &db, FAST_PHONES, &core_env);
    let ns = stack
        .api()
        .call("GET", "/v1/templates", Some(&stack.admin), None)
        .body["templates"][0]["namespace"]
        .as_str()
        .unwrap()
        .to_string();
    stack.wanet.consumer_says(CONSUMER, "Hello");
    stack.wanet.service.signal(Signal::STOP);
    let mut expiring = template(&ns, "hello_world", "en_US", "deterministic", json!([]));
    expiring["ttl"] = json!(1);
    let template_id = sent_id(&send(&stack, expiring));
    let text = json!({"to": CONSUMER, "type": "text", "text": {"body": "Still there?"}});
    let text_id = sent_id(&send(&stack, text));
    let bodies = receiver.wait_until(WAIT, "410 and 408", |b| {
        status_of(b, &template_id, "failed").is_some() && status_of(b, &text_id, "failed").is_some()
    });
    stack.wanet.service.signal(Signal::CONT);
    assert_eq!(
        status_of(&bodies, &template_id, "failed").unwrap()["errors"][0]["code"],
        410
    );
    let failed = status_of(&bodies, &text_id, "failed").unwrap();
    assert_eq!(failed["errors"][0]["code"], 408, "{failed}");
    assert_eq!(failed["errors"][0]["title"], "Message is not valid");
    // Once the network runs again it drops the stale template itself (410 too), while the text
    // frame that was already on the wire reaches the phone; no later status is reported.
    let deadline = std::time::Instant::now() + WAIT;
    while stack.wanet.consumer(CONSUMER)["received_count"] == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the text never reached the phone"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let phone = stack.wanet.consumer(CONSUMER);
    assert!(phone["received"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["id"] != template_id.as_str()));
    let bodies = receiver.delivered();
    for id in [&template_id, &text_id] {
        for later in ["sent", "delivered", "read"] {
            assert!(status_of(&bodies, id, later).is_none(), "{id} {later}");
        }
    }
}

#[test]
fn expiry_while_the_network_hangs_on_sqlite() {
    expiry_while_the_network_hangs(Backend::Sqlite);
}

#[test]
fn expiry_while_the_network_hangs_on_mysql() {
    expiry_while_the_network_hangs(Backend::Mysql);
}

#[test]
fn expiry_while_the_network_hangs_on_postgres() {
    expiry_while_the_network_hangs(Backend::Postgres);
}
