//! Message templates as the network keeps them, and hydration: checking a `template` send against
//! a template's definition and rendering its text (spec onprem-messaging §2.4.6, §6.5). Both sides
//! run the same rules: the coreapp before it answers 201, wanet again when it delivers.
//!
//! A template's components follow the Graph API shape (`HEADER` with a `format`, `BODY`,
//! `FOOTER`, `BUTTONS`); `{{n}}` marks the n-th parameter of a component.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest value of one text parameter (code 2004; the real limit is unconfirmed).
pub const MAX_PARAM_CHARS: usize = 1024;
/// Longest rendered body (code 2005; Meta's template limit).
pub const MAX_BODY_CHARS: usize = 1024;
/// Longest rendered header text (code 2005).
pub const MAX_HEADER_CHARS: usize = 60;

/// One translation of a template: identity is (namespace, name, language).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub namespace: String,
    pub name: String,
    pub language: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`.
    pub status: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub components: Vec<Value>,
}

pub const APPROVED: &str = "APPROVED";
/// The status of a template submitted for review and not yet decided.
pub const PENDING: &str = "PENDING";

/// A template's category, which decides its pricing and the rules review applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateCategory {
    Authentication,
    Marketing,
    Utility,
}

impl TemplateCategory {
    pub const ALL: [TemplateCategory; 3] = [
        TemplateCategory::Authentication,
        TemplateCategory::Marketing,
        TemplateCategory::Utility,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TemplateCategory::Authentication => "AUTHENTICATION",
            TemplateCategory::Marketing => "MARKETING",
            TemplateCategory::Utility => "UTILITY",
        }
    }

    /// The category named `name` in any case (Graph takes `utility` as well as `UTILITY`).
    pub fn parse(name: &str) -> Option<TemplateCategory> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(name))
    }
}

/// Why a send does not match its template: an On-Prem code and the `details` text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HydrationError {
    pub code: u32,
    pub details: String,
}

fn fail<T>(code: u32, details: impl Into<String>) -> Result<T, HydrationError> {
    Err(HydrationError {
        code,
        details: details.into(),
    })
}

impl HydrationError {
    /// The error as the network reports it in a `failed` receipt.
    pub fn to_net_error(&self) -> crate::NetError {
        crate::NetError::new(self.code, error_title(self.code)).with_details(self.details.clone())
    }
}

/// Titles of the codes hydration answers with (the same table as the API's, spec §8.3).
pub fn error_title(code: u32) -> &'static str {
    match code {
        1009 => "Parameter value is not valid",
        2000 => "Number of parameters does not match the expected number of params",
        2001 => "Template name does not exist in the translation",
        2003 => "Could not find translation for the requested language and locale",
        2004 => "Parameter length too long",
        2005 => "Translated text too long",
        2006 => "Template White Space Policy Violated",
        2007 => "Template Format Character Policy Violated",
        2008 => "Media format used is unsupported",
        2009 => "Template Required Component Missing",
        2010 => "URL in button component is invalid",
        2011 => "Phone Number in button component is invalid",
        2012 => "Template Parameter Format Mismatch",
        2013 => "Buttons are unsupported by the receiver",
        2060 => "Template Rejected",
        2061 => "Template Paused",
        2062 => "Template Disabled",
        _ => "Generic error",
    }
}

/// The language-policy choice among the translations known for a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Exactly the requested language, or an error.
    Deterministic,
    /// The requested language if it exists, else another translation of the same template
    /// (same base language first).
    Fallback,
}

/// Picks the translation a send names. `templates` are all the templates known for the
/// business. Codes: 2001 (no such element in the pack, or not active), 2003 (no pack for the
/// namespace and language), 2060/2061/2062 (rejected, paused, disabled), 1009 (unknown namespace).
pub fn select<'a>(
    templates: &'a [Template],
    namespace: &str,
    name: &str,
    language: &str,
    policy: Policy,
) -> Result<&'a Template, HydrationError> {
    if !templates.iter().any(|t| t.namespace == namespace) {
        return fail(1009, "The namespace does not correspond to the WABA id");
    }
    let same_name = |t: &&Template| t.namespace == namespace && t.name == name;
    let exact = templates
        .iter()
        .filter(same_name)
        .find(|t| t.language == language);
    let chosen = match (exact, policy) {
        (Some(t), _) => t,
        (None, Policy::Fallback) => {
            match fallback_translation(templates, namespace, name, language) {
                Some(t) => t,
                None => return missing(templates, namespace, name, language),
            }
        }
        (None, Policy::Deterministic) => return missing(templates, namespace, name, language),
    };
    check_status(chosen)?;
    Ok(chosen)
}

fn fallback_translation<'a>(
    templates: &'a [Template],
    namespace: &str,
    name: &str,
    language: &str,
) -> Option<&'a Template> {
    let base = language.split('_').next().unwrap_or(language);
    let candidates: Vec<&Template> = templates
        .iter()
        .filter(|t| t.namespace == namespace && t.name == name && t.status == APPROVED)
        .collect();
    candidates
        .iter()
        .find(|t| t.language.split('_').next() == Some(base))
        .or_else(|| candidates.first())
        .copied()
}

/// 2001 when the namespace has a pack for the language (other elements in it), else 2003.
fn missing<T>(
    templates: &[Template],
    namespace: &str,
    name: &str,
    language: &str,
) -> Result<T, HydrationError> {
    let pack_exists = templates
        .iter()
        .any(|t| t.namespace == namespace && t.language == language);
    if pack_exists {
        fail(
            2001,
            format!("Template '{name}' does not exist in the '{language}' translation"),
        )
    } else {
        fail(
            2003,
            format!("No language pack for namespace '{namespace}' and language '{language}'"),
        )
    }
}

fn check_status(template: &Template) -> Result<(), HydrationError> {
    let name = &template.name;
    match template.status.as_str() {
        APPROVED => Ok(()),
        "REJECTED" => fail(2060, format!("Template '{name}' was rejected")),
        "PAUSED" => fail(2061, format!("Template '{name}' is paused")),
        "DISABLED" => fail(2062, format!("Template '{name}' is disabled")),
        other => fail(
            2001,
            format!("Template '{name}' is not active (status {other})"),
        ),
    }
}

/// Checks the send's `components` against the template and returns the rendered text (header,
/// body and footer, one per line, parameters replaced by their text or `fallback_value`).
pub fn hydrate(template: &Template, components: &[Value]) -> Result<String, HydrationError> {
    let sent = SentComponents::index(components);
    let mut lines = Vec::new();
    if let Some(header) = component(template, "HEADER") {
        if let Some(text) = hydrate_header(header, sent.header)? {
            lines.push(text);
        }
    } else if has_parameters(sent.header) {
        return fail(
            2000,
            "The template has no header, but header parameters were sent",
        );
    }
    let body_text = component(template, "BODY")
        .and_then(|b| b.get("text"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let body = render(body_text, params_of(sent.body), Slot::Body)?;
    if body.chars().count() > MAX_BODY_CHARS {
        return fail(
            2005,
            format!("Hydrated body is longer than {MAX_BODY_CHARS} characters"),
        );
    }
    lines.push(body);
    if let Some(footer) = component(template, "FOOTER").and_then(|f| f.get("text")) {
        lines.push(footer.as_str().unwrap_or_default().to_string());
    }
    check_buttons(template, &sent.buttons)?;
    Ok(lines.join("\n"))
}

/// The send's components by kind; repeated header/body components are refused.
struct SentComponents<'a> {
    header: Option<&'a Value>,
    body: Option<&'a Value>,
    buttons: Vec<&'a Value>,
}

impl<'a> SentComponents<'a> {
    fn index(components: &'a [Value]) -> Self {
        let mut sent = SentComponents {
            header: None,
            body: None,
            buttons: Vec::new(),
        };
        for c in components {
            let kind = c.get("type").and_then(Value::as_str).unwrap_or("");
            match kind.to_ascii_lowercase().as_str() {
                "header" => sent.header = Some(c),
                "body" => sent.body = Some(c),
                "button" => sent.buttons.push(c),
                // Footers carry no parameters; other kinds were refused by the API's validation.
                _ => {}
            }
        }
        sent
    }
}

fn component<'a>(template: &'a Template, kind: &str) -> Option<&'a Value> {
    template
        .components
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn params_of(component: Option<&Value>) -> &[Value] {
    component
        .and_then(|c| c.get("parameters"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn has_parameters(component: Option<&Value>) -> bool {
    !params_of(component).is_empty()
}

/// Text headers are rendered; media headers need exactly one parameter of their format.
fn hydrate_header(header: &Value, sent: Option<&Value>) -> Result<Option<String>, HydrationError> {
    let format = header
        .get("format")
        .and_then(Value::as_str)
        .unwrap_or("TEXT")
        .to_ascii_lowercase();
    if format == "text" {
        let text = header.get("text").and_then(Value::as_str).unwrap_or("");
        let rendered = render(text, params_of(sent), Slot::Header)?;
        if rendered.chars().count() > MAX_HEADER_CHARS {
            return fail(
                2005,
                format!("Hydrated header is longer than {MAX_HEADER_CHARS} characters"),
            );
        }
        return Ok(Some(rendered));
    }
    let params = params_of(sent);
    let Some(param) = params.first() else {
        return fail(
            2009,
            format!("The template's {format} header needs a header parameter"),
        );
    };
    if params.len() > 1 {
        return fail(
            2000,
            format!("Expected 1 header parameter, got {}", params.len()),
        );
    }
    let kind = param.get("type").and_then(Value::as_str).unwrap_or("");
    if kind != format {
        return fail(
            2012,
            format!("Header parameter of type '{kind}' where the template expects '{format}'"),
        );
    }
    if format == "document" && !is_pdf(param.get("document")) {
        return fail(2008, "Document headers must be PDF files");
    }
    Ok(None)
}

fn is_pdf(document: Option<&Value>) -> bool {
    let named = |key: &str| {
        document
            .and_then(|d| d.get(key))
            .and_then(Value::as_str)
            .map(|s| s.to_ascii_lowercase())
    };
    match (named("filename"), named("link")) {
        (Some(name), _) => name.ends_with(".pdf"),
        (None, Some(link)) => link
            .split(['?', '#'])
            .next()
            .unwrap_or("")
            .ends_with(".pdf"),
        // By id: the media's type is known to the media store, not here.
        (None, None) => true,
    }
}

/// Where a text parameter goes; the header has stricter character rules than the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Header,
    Body,
    UrlButton,
}

impl Slot {
    fn name(self) -> &'static str {
        match self {
            Slot::Header => "header",
            Slot::Body => "body",
            Slot::UrlButton => "URL button",
        }
    }
}

/// Replaces `{{1}}`..`{{n}}` with the parameters' text; the count must match exactly.
fn render(text: &str, params: &[Value], slot: Slot) -> Result<String, HydrationError> {
    let what = slot.name();
    let expected = placeholder_count(text);
    if params.len() != expected {
        return fail(
            2000,
            format!(
                "The {what} expects {expected} parameters, {} were sent",
                params.len()
            ),
        );
    }
    let mut rendered = text.to_string();
    for (n, param) in params.iter().enumerate() {
        let value = text_param_value(param, slot)?;
        rendered = rendered.replace(&format!("{{{{{}}}}}", n + 1), &value);
    }
    Ok(rendered)
}

/// The highest `{{n}}` in the text (placeholders are numbered from 1 without gaps).
pub fn placeholder_count(text: &str) -> usize {
    let mut highest = 0;
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                if let Ok(n) = after[..end].trim().parse::<usize>() {
                    highest = highest.max(n);
                }
                rest = &after[end + 2..];
            }
            None => break,
        }
    }
    highest
}

/// The text a body/header parameter contributes; media parameters do not belong there (2012).
fn text_param_value(param: &Value, slot: Slot) -> Result<String, HydrationError> {
    let what = slot.name();
    let kind = param.get("type").and_then(Value::as_str).unwrap_or("");
    let value = match kind {
        "text" => param.get("text").and_then(Value::as_str),
        "currency" | "date_time" => param
            .get(kind)
            .and_then(|v| v.get("fallback_value"))
            .and_then(Value::as_str),
        other => {
            return fail(
                2012,
                format!("Parameter of type '{other}' cannot be used in the {what}"),
            )
        }
    }
    .unwrap_or("");
    check_text_param(value)?;
    if slot == Slot::Header {
        check_header_characters(value)?;
    }
    Ok(value.to_string())
}

fn check_text_param(value: &str) -> Result<(), HydrationError> {
    if value.chars().count() > MAX_PARAM_CHARS {
        return fail(
            2004,
            format!("A parameter is longer than {MAX_PARAM_CHARS} characters"),
        );
    }
    if value.contains(['\n', '\t']) || value.contains("     ") {
        return fail(
            2006,
            "Parameters must not contain new lines, tabs or more than 4 consecutive spaces",
        );
    }
    Ok(())
}

/// Markdown markers WhatsApp would render as formatting.
const FORMAT_CHARACTERS: [char; 4] = ['*', '_', '~', '`'];

/// A template header is shown as plain bold text: Meta's template rules allow neither formatting
/// markers nor emoji in it, so header parameters carrying them are refused (2007). Body
/// parameters may format.
fn check_header_characters(value: &str) -> Result<(), HydrationError> {
    match value
        .chars()
        .find(|c| FORMAT_CHARACTERS.contains(c) || is_emoji(*c))
    {
        Some(c) => fail(
            2007,
            format!("Header parameters must not contain formatting characters or emoji ('{c}')"),
        ),
        None => Ok(()),
    }
}

/// Pictographs, emoticons, flags and symbol blocks, and the emoji presentation selector.
fn is_emoji(c: char) -> bool {
    matches!(u32::from(c), 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0xFE0F)
}

/// Whether the template shows buttons (quick replies, URL or call buttons): phones whose app
/// cannot display them cannot receive it (2013).
pub fn has_buttons(template: &Template) -> bool {
    component(template, "BUTTONS")
        .and_then(|b| b.get("buttons"))
        .and_then(Value::as_array)
        .is_some_and(|buttons| !buttons.is_empty())
}

/// URL buttons with a `{{1}}` need their suffix; quick replies may carry a payload.
fn check_buttons(template: &Template, sent: &[&Value]) -> Result<(), HydrationError> {
    let defined: &[Value] = component(template, "BUTTONS")
        .and_then(|b| b.get("buttons"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    for (index, button) in defined.iter().enumerate() {
        check_phone_button(button)?;
        let url = button.get("url").and_then(Value::as_str);
        if let Some(url) = url.filter(|u| placeholder_count(u) > 0) {
            let suffix = sent_button(sent, index).ok_or(HydrationError {
                code: 2009,
                details: format!("Button {index} needs a URL parameter"),
            })?;
            check_url(url, params_of(Some(suffix)))?;
        }
    }
    for button in sent {
        let index = button_index(button);
        if index.is_none_or(|i| i >= defined.len()) {
            return fail(
                2000,
                "A button parameter was sent for a button the template does not have",
            );
        }
    }
    Ok(())
}

/// A call button's number must be a dialable international number: `+`, 7 to 15 digits.
fn check_phone_button(button: &Value) -> Result<(), HydrationError> {
    if button.get("type").and_then(Value::as_str) != Some("PHONE_NUMBER") {
        return Ok(());
    }
    let number = button
        .get("phone_number")
        .and_then(Value::as_str)
        .unwrap_or("");
    let digits: String = number
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let valid = digits
        .strip_prefix('+')
        .is_some_and(|d| (7..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()));
    if valid {
        Ok(())
    } else {
        fail(2011, format!("'{number}' is not a valid phone number"))
    }
}

fn sent_button<'a>(sent: &[&'a Value], index: usize) -> Option<&'a Value> {
    sent.iter()
        .copied()
        .find(|b| button_index(b) == Some(index))
}

/// `index` is given as a string in samples ("0"); numbers are accepted too.
pub fn button_index(button: &Value) -> Option<usize> {
    match button.get("index")? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        _ => None,
    }
}

fn check_url(url: &str, params: &[Value]) -> Result<(), HydrationError> {
    let rendered = render(url, params, Slot::UrlButton)?;
    let rest = rendered
        .strip_prefix("https://")
        .or_else(|| rendered.strip_prefix("http://"));
    let valid = rest.is_some_and(|r| {
        let host = r.split('/').next().unwrap_or("");
        !host.is_empty() && !r.contains(char::is_whitespace)
    });
    if valid {
        Ok(())
    } else {
        fail(2010, format!("'{rendered}' is not a valid URL"))
    }
}

#[cfg(test)]
mod tests;
