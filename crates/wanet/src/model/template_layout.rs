//! A template message laid out as the phone shows it: the header (text, or the media the send
//! attached), the body, the footer and the buttons, each resolved against the business's
//! template. The admin console's Phones page draws it; the rendered text alone cannot say which
//! line is the header or what a button's payload is.

use serde_json::{json, Map, Value};
use wa_netproto::templates::{button_index, Template};

/// `text` is the hydrated text (`wa_netproto::templates::hydrate`): the header line when the
/// header is text, the body, then the footer line when there is one.
pub fn layout(template: &Template, components: &[Value], text: &str) -> Value {
    let component = |kind: &str| {
        template
            .components
            .iter()
            .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
    };
    let sent = |kind: &'static str| {
        components.iter().filter(move |c| {
            c.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case(kind))
        })
    };
    let mut body = text;
    let mut layout = Map::new();
    if let Some(header) = component("HEADER") {
        let format = header
            .get("format")
            .and_then(Value::as_str)
            .unwrap_or("TEXT")
            .to_ascii_uppercase();
        let mut shown = json!({ "format": format });
        if format == "TEXT" {
            // Parameters cannot hold a line break (2006): the header has as many lines as the
            // template's own header text.
            let lines = header
                .get("text")
                .and_then(Value::as_str)
                .map_or(1, |t| t.matches('\n').count() + 1);
            let split = body
                .match_indices('\n')
                .nth(lines - 1)
                .map_or(body.len(), |(at, _)| at);
            shown["text"] = body[..split].into();
            body = body.get(split + 1..).unwrap_or("");
        } else if let Some(param) = sent("header")
            .next()
            .and_then(|h| h.get("parameters"))
            .and_then(Value::as_array)
            .and_then(|p| p.first())
        {
            let kind = format.to_ascii_lowercase();
            shown["media"] = param.get(&kind).cloned().unwrap_or(Value::Null);
        }
        layout.insert("header".into(), shown);
    }
    let footer = component("FOOTER")
        .and_then(|f| f.get("text"))
        .and_then(Value::as_str);
    if let Some(footer) = footer {
        body = body
            .strip_suffix(footer)
            .map_or(body, |b| b.strip_suffix('\n').unwrap_or(b));
        layout.insert("footer".into(), footer.into());
    }
    layout.insert("body".into(), body.into());
    let defined = component("BUTTONS")
        .and_then(|b| b.get("buttons"))
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let buttons: Vec<Value> = defined
        .iter()
        .enumerate()
        .map(|(index, button)| {
            let param = sent("button")
                .find(|b| button_index(b) == Some(index))
                .and_then(|b| b.get("parameters"))
                .and_then(Value::as_array)
                .and_then(|p| p.first());
            shown_button(button, param)
        })
        .collect();
    if !buttons.is_empty() {
        layout.insert("buttons".into(), buttons.into());
    }
    Value::Object(layout)
}

/// A button with its URL's `{{1}}` filled in, and a quick reply's payload: the one the send
/// gave, else its text (what the `button` webhook then carries).
fn shown_button(button: &Value, param: Option<&Value>) -> Value {
    let field = |key: &str| button.get(key).and_then(Value::as_str).unwrap_or("");
    let kind = field("type").to_ascii_uppercase();
    let text = field("text");
    let param_text = |key: &str| param.and_then(|p| p.get(key)).and_then(Value::as_str);
    let mut shown = json!({ "type": kind, "text": text });
    match kind.as_str() {
        "QUICK_REPLY" => {
            shown["payload"] = param_text("payload").unwrap_or(text).into();
        }
        "URL" => {
            let suffix = param_text("text").unwrap_or("");
            shown["url"] = field("url").replace("{{1}}", suffix).into();
        }
        "PHONE_NUMBER" => shown["phone_number"] = field("phone_number").into(),
        _ => {}
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(components: Value) -> Template {
        Template {
            namespace: "ns".into(),
            name: "t".into(),
            language: "en".into(),
            status: "APPROVED".into(),
            category: "UTILITY".into(),
            components: serde_json::from_value(components).unwrap(),
        }
    }

    #[test]
    fn text_header_body_footer_and_buttons_are_told_apart() {
        let t = template(json!([
            {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
            {"type": "BODY", "text": "Line one\nline two"},
            {"type": "FOOTER", "text": "Acme"},
            {"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": "Yes"},
                {"type": "QUICK_REPLY", "text": "No"},
                {"type": "URL", "text": "Track", "url": "https://x.example/t/{{1}}"},
                {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550001111"}]}
        ]));
        let sent = [
            json!({"type": "button", "sub_type": "quick_reply", "index": "1",
                   "parameters": [{"type": "payload", "payload": "no-7"}]}),
            json!({"type": "button", "sub_type": "url", "index": 2,
                   "parameters": [{"type": "text", "text": "7"}]}),
        ];
        let shown = layout(&t, &sent, "Order 7\nLine one\nline two\nAcme");
        assert_eq!(
            shown,
            json!({
                "header": {"format": "TEXT", "text": "Order 7"},
                "body": "Line one\nline two",
                "footer": "Acme",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Yes", "payload": "Yes"},
                    {"type": "QUICK_REPLY", "text": "No", "payload": "no-7"},
                    {"type": "URL", "text": "Track", "url": "https://x.example/t/7"},
                    {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550001111"}]
            })
        );
    }

    #[test]
    fn a_media_header_shows_what_the_send_attached() {
        let t = template(json!([
            {"type": "HEADER", "format": "IMAGE"},
            {"type": "BODY", "text": "Delivered."}
        ]));
        let sent = [json!({"type": "header", "parameters": [
            {"type": "image", "image": {"link": "https://x.example/a.jpg"}}]})];
        let shown = layout(&t, &sent, "Delivered.");
        assert_eq!(
            shown,
            json!({"header": {"format": "IMAGE", "media": {"link": "https://x.example/a.jpg"}},
                   "body": "Delivered."})
        );
        let bare = layout(
            &template(json!([{"type": "BODY", "text": "Hi"}])),
            &[],
            "Hi",
        );
        assert_eq!(bare, json!({"body": "Hi"}));
    }
}
