use super::*;
use serde_json::json;

fn template(name: &str, language: &str, status: &str, components: Value) -> Template {
    Template {
        namespace: "ns".into(),
        name: name.into(),
        language: language.into(),
        status: status.into(),
        category: "UTILITY".into(),
        components: serde_json::from_value(components).unwrap_or_default(),
    }
}

fn order_update() -> Template {
    template(
        "order_update",
        "en_US",
        APPROVED,
        json!([
            {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
            {"type": "BODY", "text": "Hi {{1}}, you paid {{2}}."},
            {"type": "FOOTER", "text": "Acme"},
            {"type": "BUTTONS", "buttons": [
                {"type": "URL", "text": "Track", "url": "https://acme.example/track/{{1}}"}]}
        ]),
    )
}

fn send(header: Value, body: Value, button: Value) -> Vec<Value> {
    vec![
        json!({"type": "header", "parameters": header}),
        json!({"type": "body", "parameters": body}),
        json!({"type": "button", "sub_type": "url", "index": "0", "parameters": button}),
    ]
}

fn code(result: Result<String, HydrationError>) -> u32 {
    result.err().map_or(0, |e| e.code)
}

#[test]
fn renders_text_currency_and_buttons() {
    let rendered = hydrate(
        &order_update(),
        &send(
            json!([{"type": "text", "text": "42"}]),
            json!([{"type": "text", "text": "Jane"},
                   {"type": "currency", "currency": {"fallback_value": "$1.00", "code": "USD", "amount_1000": 1000}}]),
            json!([{"type": "text", "text": "42"}]),
        ),
    );
    assert_eq!(
        rendered.unwrap(),
        "Order 42\nHi Jane, you paid $1.00.\nAcme"
    );
}

#[test]
fn each_hydration_rule_has_its_code() {
    let t = order_update();
    let one = json!([{"type": "text", "text": "1"}]);
    let two = json!([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]);
    assert_eq!(
        code(hydrate(&t, &send(one.clone(), one.clone(), one.clone()))),
        2000
    );
    let long = json!([{"type": "text", "text": "x".repeat(1025)}, {"type": "text", "text": "b"}]);
    assert_eq!(
        code(hydrate(&t, &send(one.clone(), long, one.clone()))),
        2004
    );
    let tab = json!([{"type": "text", "text": "a\tb"}, {"type": "text", "text": "b"}]);
    assert_eq!(
        code(hydrate(&t, &send(one.clone(), tab, one.clone()))),
        2006
    );
    let big = json!([{"type": "text", "text": "x".repeat(1000)}, {"type": "text", "text": "y".repeat(100)}]);
    assert_eq!(
        code(hydrate(&t, &send(one.clone(), big, one.clone()))),
        2005
    );
    let image = json!([{"type": "image", "image": {"link": "https://a.example/x.jpg"}}, {"type": "text", "text": "b"}]);
    assert_eq!(
        code(hydrate(&t, &send(one.clone(), image, one.clone()))),
        2012
    );
    let bad_url = json!([{"type": "text", "text": "a b"}]);
    assert_eq!(
        code(hydrate(&t, &send(one.clone(), two.clone(), bad_url))),
        2010
    );
    let without_button = vec![
        json!({"type": "header", "parameters": one}),
        json!({"type": "body", "parameters": two}),
    ];
    assert_eq!(code(hydrate(&t, &without_button)), 2009);
}

#[test]
fn header_parameters_refuse_formatting_and_emoji_but_bodies_allow_them() {
    let t = order_update();
    let body =
        json!([{"type": "text", "text": "*Jane*"}, {"type": "text", "text": "_x_ \u{1f600}"}]);
    let url = json!([{"type": "text", "text": "42"}]);
    let header = |text: &str| json!([{"type": "text", "text": text}]);
    assert!(hydrate(&t, &send(header("A-42"), body.clone(), url.clone())).is_ok());
    for bad in [
        "*42*",
        "4_2",
        "~42~",
        "`42`",
        "42 \u{1f4e6}",
        "\u{2764}\u{fe0f}",
    ] {
        assert_eq!(
            code(hydrate(&t, &send(header(bad), body.clone(), url.clone()))),
            2007,
            "{bad}"
        );
    }
    // The whitespace rule comes first.
    assert_eq!(code(hydrate(&t, &send(header("*4\n2*"), body, url))), 2006);
}

#[test]
fn buttons_are_detected() {
    assert!(has_buttons(&order_update()));
    let plain = template(
        "plain",
        "en",
        APPROVED,
        json!([{"type": "BODY", "text": "Hi"}]),
    );
    assert!(!has_buttons(&plain));
    let empty = template(
        "empty",
        "en",
        APPROVED,
        json!([{"type": "BUTTONS", "buttons": []}]),
    );
    assert!(!has_buttons(&empty));
}

#[test]
fn call_buttons_need_a_valid_number() {
    let call = |number: &str| {
        template(
            "call_us",
            "en",
            APPROVED,
            json!([{"type": "BODY", "text": "Call us"},
                   {"type": "BUTTONS", "buttons": [{"type": "PHONE_NUMBER", "text": "Call", "phone_number": number}]}]),
        )
    };
    assert_eq!(hydrate(&call("+1 (631) 555-1234"), &[]).unwrap(), "Call us");
    assert_eq!(code(hydrate(&call("555-1234"), &[])), 2011);
    assert_eq!(code(hydrate(&call("+1 call me"), &[])), 2011);
}

#[test]
fn media_headers_need_their_format() {
    let t = template(
        "invoice",
        "en",
        APPROVED,
        json!([{"type": "HEADER", "format": "DOCUMENT"}, {"type": "BODY", "text": "Invoice"}]),
    );
    let header = |p: Value| vec![json!({"type": "header", "parameters": [p]})];
    let pdf = json!({"type": "document", "document": {"link": "https://a.example/i.pdf"}});
    assert_eq!(hydrate(&t, &header(pdf)).unwrap(), "Invoice");
    let doc = json!({"type": "document", "document": {"link": "https://a.example/i.docx"}});
    assert_eq!(code(hydrate(&t, &header(doc))), 2008);
    let image = json!({"type": "image", "image": {"link": "https://a.example/i.jpg"}});
    assert_eq!(code(hydrate(&t, &header(image))), 2012);
    assert_eq!(code(hydrate(&t, &[])), 2009);
}

#[test]
fn language_policies() {
    let all = vec![
        template("hello", "en_US", APPROVED, json!([])),
        template("hello", "pt_BR", APPROVED, json!([])),
        template("bye", "de", APPROVED, json!([])),
        template("paused", "de", "PAUSED", json!([])),
    ];
    let pick = |name: &str, lang: &str, policy| {
        select(&all, "ns", name, lang, policy).map(|t| t.language.clone())
    };
    assert_eq!(
        pick("hello", "en_US", Policy::Deterministic).unwrap(),
        "en_US"
    );
    assert_eq!(pick("hello", "en_GB", Policy::Fallback).unwrap(), "en_US");
    assert_eq!(pick("hello", "fr", Policy::Fallback).unwrap(), "en_US");
    assert_eq!(
        pick("hello", "en_GB", Policy::Deterministic)
            .unwrap_err()
            .code,
        2003
    );
    assert_eq!(
        pick("hello", "de", Policy::Deterministic).unwrap_err().code,
        2001
    );
    assert_eq!(
        pick("paused", "de", Policy::Deterministic)
            .unwrap_err()
            .code,
        2061
    );
    let other_ns = select(&all, "other", "hello", "en_US", Policy::Deterministic);
    assert_eq!(other_ns.unwrap_err().code, 1009);
}

#[test]
fn placeholders_are_counted_by_their_highest_number() {
    assert_eq!(placeholder_count("Hi {{1}} and {{2}}, {{1}}"), 2);
    assert_eq!(placeholder_count("no params"), 0);
}
