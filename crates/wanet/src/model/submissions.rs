//! Templates a business submits over the protocol (`Request::CreateTemplate`), as WhatsApp
//! Manager's API takes them: the checks a submission passes before it is kept, and the review
//! that approves it. The control API edits templates without these checks: it is the operator's
//! tool for setting up any state, even one review would refuse.

use crate::base::errors::invalid_parameter;
use serde_json::{Map, Value};
use std::time::Duration;
use wa_netproto::templates::{
    Template, TemplateCategory, MAX_BODY_CHARS, MAX_HEADER_CHARS, PENDING,
};
use wa_netproto::NetError;

/// Meta's limit on a template name's length.
pub const MAX_NAME_CHARS: usize = 512;
/// Meta's limits on a footer's text and a template's buttons.
const MAX_FOOTER_CHARS: usize = 60;
const MAX_BUTTONS: usize = 10;
const MAX_BUTTON_TEXT_CHARS: usize = 25;

/// How long review takes at `time_scale` 1: long enough that a client sees `PENDING` first, as
/// it does from Meta (where review takes from seconds to a day), short enough for tests.
pub const REVIEW_DELAY: Duration = Duration::from_millis(300);

/// A submission as the business sent it.
pub struct Submission<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub language: &'a str,
    pub category: &'a str,
    pub components: &'a [Value],
}

/// The template a valid submission becomes, `PENDING`; 1009 naming the first problem otherwise.
/// Component and button `type`s and header `format`s are kept upper case, as the hydrator and
/// the coreapp look them up.
pub fn checked(submission: &Submission<'_>) -> Result<Template, NetError> {
    let name = submission.name;
    let name_ok = (1..=MAX_NAME_CHARS).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !name_ok {
        return Err(invalid_parameter(format!(
            "Template name '{name}' is not valid: use 1 to {MAX_NAME_CHARS} lower-case letters, digits and underscores"
        )));
    }
    if !is_language_code(submission.language) {
        return Err(invalid_parameter(format!(
            "'{}' is not a language code (such as en or en_US)",
            submission.language
        )));
    }
    let category = TemplateCategory::parse(submission.category).ok_or_else(|| {
        invalid_parameter(format!(
            "Category '{}' is not one of AUTHENTICATION, MARKETING, UTILITY",
            submission.category
        ))
    })?;
    Ok(Template {
        namespace: submission.namespace.to_string(),
        name: name.to_string(),
        language: submission.language.to_string(),
        status: PENDING.to_string(),
        category: category.as_str().to_string(),
        components: checked_components(submission.components)?,
    })
}

/// `en`, `fil`, `en_US`, `zh_CN`: a lower-case language and an optional upper-case region.
fn is_language_code(code: &str) -> bool {
    let mut parts = code.split('_');
    let language = parts.next().unwrap_or_default();
    let region = parts.next();
    (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && region.is_none_or(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()))
        && parts.next().is_none()
}

/// The component kinds a template may have, each at most once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Header,
    Body,
    Footer,
    Buttons,
}

impl Kind {
    fn parse(name: &str) -> Option<Kind> {
        match name.to_ascii_uppercase().as_str() {
            "HEADER" => Some(Kind::Header),
            "BODY" => Some(Kind::Body),
            "FOOTER" => Some(Kind::Footer),
            "BUTTONS" => Some(Kind::Buttons),
            _ => None,
        }
    }
}

fn checked_components(components: &[Value]) -> Result<Vec<Value>, NetError> {
    let mut seen = Vec::new();
    let mut kept = Vec::new();
    for component in components {
        let fields = component
            .as_object()
            .ok_or_else(|| invalid_parameter("Each component must be an object"))?;
        let kind_name = text_of(fields, "type").unwrap_or_default();
        let kind = Kind::parse(kind_name).ok_or_else(|| {
            invalid_parameter(format!(
                "Component type '{kind_name}' is not one of HEADER, BODY, FOOTER, BUTTONS"
            ))
        })?;
        if seen.contains(&kind) {
            return Err(invalid_parameter(format!(
                "A template has at most one {} component",
                kind_name.to_ascii_uppercase()
            )));
        }
        seen.push(kind);
        let mut fields = fields.clone();
        fields.insert("type".into(), kind_name.to_ascii_uppercase().into());
        match kind {
            Kind::Header => check_header(&mut fields)?,
            Kind::Body => check_text(&fields, "BODY", MAX_BODY_CHARS)?,
            Kind::Footer => check_text(&fields, "FOOTER", MAX_FOOTER_CHARS)?,
            Kind::Buttons => check_buttons(&mut fields)?,
        }
        kept.push(Value::Object(fields));
    }
    if !seen.contains(&Kind::Body) {
        return Err(invalid_parameter("A template needs a BODY component"));
    }
    Ok(kept)
}

fn text_of<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    fields.get(key).and_then(Value::as_str)
}

/// A non-empty `text` of at most `max` characters.
fn check_text(fields: &Map<String, Value>, what: &str, max: usize) -> Result<(), NetError> {
    match text_of(fields, "text") {
        Some(text) if !text.trim().is_empty() && text.chars().count() <= max => Ok(()),
        _ => Err(invalid_parameter(format!(
            "The {what} component needs a text of 1 to {max} characters"
        ))),
    }
}

const HEADER_FORMATS: [&str; 5] = ["TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION"];

fn check_header(fields: &mut Map<String, Value>) -> Result<(), NetError> {
    let format = text_of(fields, "format")
        .unwrap_or("TEXT")
        .to_ascii_uppercase();
    if !HEADER_FORMATS.contains(&format.as_str()) {
        return Err(invalid_parameter(format!(
            "Header format '{format}' is not one of {}",
            HEADER_FORMATS.join(", ")
        )));
    }
    if format == "TEXT" {
        check_text(fields, "HEADER", MAX_HEADER_CHARS)?;
    }
    fields.insert("format".into(), format.into());
    Ok(())
}

/// The button kinds a submitted template may have, with the field each needs besides `text`.
const BUTTON_KINDS: [(&str, Option<&str>); 3] = [
    ("QUICK_REPLY", None),
    ("URL", Some("url")),
    ("PHONE_NUMBER", Some("phone_number")),
];

fn check_buttons(fields: &mut Map<String, Value>) -> Result<(), NetError> {
    let buttons = fields
        .get("buttons")
        .and_then(Value::as_array)
        .filter(|b| (1..=MAX_BUTTONS).contains(&b.len()))
        .ok_or_else(|| {
            invalid_parameter(format!(
                "The BUTTONS component needs 1 to {MAX_BUTTONS} buttons"
            ))
        })?;
    let mut kept = Vec::with_capacity(buttons.len());
    for button in buttons {
        let mut button = button
            .as_object()
            .cloned()
            .ok_or_else(|| invalid_parameter("Each button must be an object"))?;
        let kind = text_of(&button, "type")
            .unwrap_or_default()
            .to_ascii_uppercase();
        let (kind, needs) = BUTTON_KINDS
            .into_iter()
            .find(|(name, _)| *name == kind)
            .ok_or_else(|| {
                invalid_parameter(format!(
                    "Button type '{kind}' is not one of QUICK_REPLY, URL, PHONE_NUMBER"
                ))
            })?;
        let text_ok = text_of(&button, "text")
            .is_some_and(|t| !t.trim().is_empty() && t.chars().count() <= MAX_BUTTON_TEXT_CHARS);
        if !text_ok {
            return Err(invalid_parameter(format!(
                "A {kind} button needs a text of 1 to {MAX_BUTTON_TEXT_CHARS} characters"
            )));
        }
        if let Some(field) = needs.filter(|f| text_of(&button, f).is_none_or(str::is_empty)) {
            return Err(invalid_parameter(format!(
                "A {kind} button needs '{field}'"
            )));
        }
        button.insert("type".into(), kind.into());
        kept.push(Value::Object(button));
    }
    fields.insert("buttons".into(), Value::Array(kept));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn submit(name: &str, category: &str, components: &Value) -> Result<Template, NetError> {
        checked(&Submission {
            namespace: "ns",
            name,
            language: "en_US",
            category,
            components: components.as_array().map(Vec::as_slice).unwrap_or_default(),
        })
    }

    #[test]
    fn a_valid_submission_is_pending_with_normalized_kinds() {
        let components = json!([
            {"type": "header", "format": "image"},
            {"type": "BODY", "text": "Hi {{1}}"},
            {"type": "buttons", "buttons": [{"type": "url", "text": "Go", "url": "https://a.example/{{1}}"}]}
        ]);
        let template = submit("spring_sale_2", "marketing", &components).unwrap();
        assert_eq!(template.status, PENDING);
        assert_eq!(template.category, "MARKETING");
        assert_eq!(template.components[0]["type"], "HEADER");
        assert_eq!(template.components[0]["format"], "IMAGE");
        assert_eq!(template.components[2]["buttons"][0]["type"], "URL");
    }

    #[test]
    fn bad_names_categories_languages_and_components_are_1009() {
        let body = json!([{"type": "BODY", "text": "Hello"}]);
        for name in ["", "Hello", "hello world", "héllo", &"a".repeat(513)] {
            assert_eq!(
                submit(name, "UTILITY", &body).unwrap_err().code,
                1009,
                "{name}"
            );
        }
        assert!(submit(&"a".repeat(512), "UTILITY", &body).is_ok());
        assert_eq!(submit("ok", "PROMOTION", &body).unwrap_err().code, 1009);
        for components in [
            json!([]),
            json!([{"type": "FOOTER", "text": "x"}]),
            json!([{"type": "BODY"}]),
            json!([{"type": "BODY", "text": "a"}, {"type": "body", "text": "b"}]),
            json!([{"type": "BODY", "text": "a"}, {"type": "CAROUSEL"}]),
            json!([{"type": "HEADER", "format": "GIF"}, {"type": "BODY", "text": "a"}]),
            json!([{"type": "BODY", "text": "a"}, {"type": "BUTTONS", "buttons": []}]),
            json!([{"type": "BODY", "text": "a"}, {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Go"}]}]),
            json!(["BODY"]),
        ] {
            assert_eq!(
                submit("ok", "UTILITY", &components).unwrap_err().code,
                1009,
                "{components}"
            );
        }
        for language in ["", "EN", "en_us", "en-US", "english", "en_US_x"] {
            let refused = checked(&Submission {
                namespace: "ns",
                name: "ok",
                language,
                category: "UTILITY",
                components: body.as_array().map(Vec::as_slice).unwrap_or_default(),
            });
            assert_eq!(refused.unwrap_err().code, 1009, "{language}");
        }
    }
}
