//! Message templates per business: each business has one namespace, and templates identified by
//! (namespace, name, language) with a status. Every business starts with a few realistic
//! approved templates (plus one pending and one rejected) so demos work; the control API edits
//! them. Sends are hydrated here too, with the same rules as the coreapp
//! (`wa_netproto::templates`), and the phone receives the rendered text.

use serde_json::{json, Value};
use wa_netproto::templates::{
    has_buttons, hydrate, select, HydrationError, Policy, Template, APPROVED,
};

/// The business's template namespace: a stable GUID-like string derived from its number, in the
/// form WhatsApp Manager shows (`cdb2df51_9816_c754_c5a4_64cdabdcad3e`).
pub fn namespace_of(wa_id: &str) -> String {
    // Two FNV-1a passes with different offsets give 128 stable bits.
    let fnv = |offset: u64| {
        wa_id.bytes().fold(offset, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let hex = format!(
        "{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x8422_2325_cbf2_9ce4)
    );
    format!(
        "{}_{}_{}_{}_{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn template(
    namespace: &str,
    name: &str,
    language: &str,
    category: &str,
    components: Value,
) -> Template {
    Template {
        namespace: namespace.to_string(),
        name: name.to_string(),
        language: language.to_string(),
        status: APPROVED.to_string(),
        category: category.to_string(),
        components: serde_json::from_value(components).unwrap_or_default(),
    }
}

/// The templates a new business starts with.
pub fn seed(wa_id: &str) -> Vec<Template> {
    let ns = namespace_of(wa_id);
    // Components with variables or a media header carry the `example` WhatsApp Manager
    // requires at submission, in the shape Cloud lists them.
    let order_update = |header: &str, body: &str, button: &str, examples: [&str; 4]| {
        json!([
            {"type": "HEADER", "format": "TEXT", "text": header,
             "example": {"header_text": [examples[0]]}},
            {"type": "BODY", "text": body,
             "example": {"body_text": [[examples[1], examples[2], examples[3]]]}},
            {"type": "FOOTER", "text": "Acme Shop"},
            {"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": button},
                {"type": "URL", "text": "Track", "url": "https://shop.example.com/track/{{1}}",
                 "example": ["https://shop.example.com/track/A1B2C3"]}]}
        ])
    };
    let media_header = |format: &str, file: &str| {
        json!({"type": "HEADER", "format": format,
               "example": {"header_handle": [format!("https://shop.example.com/samples/{file}")]}})
    };
    let mut seeded = vec![
        template(
            &ns,
            "hello_world",
            "en_US",
            "UTILITY",
            json!([
            {"type": "BODY", "text": "Hello World! Thank you for choosing our service."}]),
        ),
        template(
            &ns,
            "hello_world",
            "pt_BR",
            "UTILITY",
            json!([
            {"type": "BODY", "text": "Olá, mundo! Obrigado por escolher nosso serviço."}]),
        ),
        template(
            &ns,
            "order_update",
            "en_US",
            "UTILITY",
            order_update(
                "Order {{1}}",
                "Hi {{1}}, your order of {{2}} ships on {{3}}.",
                "Stop updates",
                ["#1042", "Kerry", "2 mugs", "Friday"],
            ),
        ),
        template(
            &ns,
            "order_update",
            "es_MX",
            "UTILITY",
            order_update(
                "Pedido {{1}}",
                "Hola {{1}}, tu pedido de {{2}} se envía el {{3}}.",
                "No más avisos",
                ["#1042", "Kerry", "2 tazas", "viernes"],
            ),
        ),
        template(
            &ns,
            "otp",
            "en",
            "AUTHENTICATION",
            json!([
            {"type": "BODY", "text": "{{1}} is your verification code. It expires in 10 minutes.",
             "example": {"body_text": [["482913"]]}}]),
        ),
        template(
            &ns,
            "invoice_ready",
            "en",
            "UTILITY",
            json!([
            media_header("DOCUMENT", "invoice.pdf"),
            {"type": "BODY", "text": "Your invoice {{1}} is ready.",
             "example": {"body_text": [["INV-2024-001"]]}}]),
        ),
        template(
            &ns,
            "shipping_photo",
            "en",
            "UTILITY",
            json!([
            media_header("IMAGE", "parcel.jpg"),
            {"type": "BODY", "text": "Your parcel was delivered."}]),
        ),
        template(
            &ns,
            "product_demo",
            "en",
            "MARKETING",
            json!([
            media_header("VIDEO", "demo.mp4"),
            {"type": "BODY", "text": "See what's new this week."}]),
        ),
        template(
            &ns,
            "new_offer",
            "en",
            "MARKETING",
            json!([
            {"type": "BODY", "text": "A new offer just for you, {{1}}!",
             "example": {"body_text": [["Kerry"]]}}]),
        ),
        template(
            &ns,
            "spam_blast",
            "en",
            "MARKETING",
            json!([
            {"type": "BODY", "text": "WIN WIN WIN"}]),
        ),
    ];
    let last = seeded.len();
    seeded[last - 2].status = "PENDING".into();
    seeded[last - 1].status = "REJECTED".into();
    seeded
}

/// A template message as the phone shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    /// Whether the template has buttons, which some apps cannot display (2013).
    pub has_buttons: bool,
    /// Header, body, footer and buttons apart (template_layout.rs).
    pub layout: Value,
}

/// Checks a `template` or `hsm` message against the business's templates.
pub fn render(templates: &[Template], message: &Value) -> Result<Rendered, HydrationError> {
    let (chosen, components) = chosen(templates, message)?;
    let text = hydrate(chosen, &components)?;
    Ok(Rendered {
        layout: super::template_layout::layout(chosen, &components, &text),
        text,
        has_buttons: has_buttons(chosen),
    })
}

/// The template a `template` or `hsm` message names, with the components it fills in.
pub fn chosen<'a>(
    templates: &'a [Template],
    message: &Value,
) -> Result<(&'a Template, Vec<Value>), HydrationError> {
    let kind = message.get("type").and_then(Value::as_str).unwrap_or("");
    let object = message.get(kind).unwrap_or(&Value::Null);
    let text = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or("");
    let language = object.get("language");
    let code = language.and_then(|l| l.get("code")).and_then(Value::as_str);
    let policy = match language
        .and_then(|l| l.get("policy"))
        .and_then(Value::as_str)
    {
        Some("deterministic") => Policy::Deterministic,
        _ => Policy::Fallback,
    };
    let (name, components) = if kind == "hsm" {
        (text("element_name"), hsm_components(object))
    } else {
        let components = object.get("components").and_then(Value::as_array);
        (text("name"), components.cloned().unwrap_or_default())
    };
    let language = code.map_or_else(|| legacy_language(object), str::to_string);
    let chosen = select(templates, text("namespace"), name, &language, policy)?;
    Ok((chosen, components))
}

fn legacy_language(hsm: &Value) -> String {
    let part = |key: &str| hsm.get(key).and_then(Value::as_str);
    match (part("fallback_lg"), part("fallback_lc")) {
        (Some(lg), Some(lc)) => format!("{lg}_{lc}"),
        (Some(lg), None) => lg.to_string(),
        _ => String::new(),
    }
}

/// `localizable_params` as body parameters (their `default` is the text shown).
fn hsm_components(hsm: &Value) -> Vec<Value> {
    let params: Vec<Value> = hsm
        .get("localizable_params")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| json!({"type": "text", "text": p.get("default").cloned().unwrap_or_default()}))
                .collect()
        })
        .unwrap_or_default();
    if params.is_empty() {
        Vec::new()
    } else {
        vec![json!({"type": "body", "parameters": params})]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_stable_and_shaped_like_guids() {
        let ns = namespace_of("16315550000");
        assert_eq!(ns, namespace_of("16315550000"));
        assert_ne!(ns, namespace_of("16315550001"));
        let lengths: Vec<usize> = ns.split('_').map(str::len).collect();
        assert_eq!(lengths, [8, 4, 4, 4, 12]);
    }

    #[test]
    fn seeded_templates_render() {
        let templates = seed("16315550000");
        let ns = namespace_of("16315550000");
        let hello = json!({"type": "template", "template": {"namespace": ns, "name": "hello_world",
            "language": {"policy": "deterministic", "code": "en_US"}}});
        let rendered = render(&templates, &hello).unwrap();
        assert_eq!(
            rendered.text,
            "Hello World! Thank you for choosing our service."
        );
        assert!(!rendered.has_buttons);
        let otp = json!({"type": "hsm", "hsm": {"namespace": ns, "element_name": "otp",
            "fallback_lg": "en", "localizable_params": [{"default": "123456"}]}});
        assert_eq!(
            render(&templates, &otp).unwrap().text,
            "123456 is your verification code. It expires in 10 minutes."
        );
        let order = json!({"type": "template", "template": {"namespace": ns, "name": "order_update",
            "language": {"policy": "deterministic", "code": "en_US"}, "components": [
                {"type": "header", "parameters": [{"type": "text", "text": "7"}]},
                {"type": "body", "parameters": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}, {"type": "text", "text": "c"}]},
                {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "7"}]}]}});
        assert!(render(&templates, &order).unwrap().has_buttons);
        let pending = json!({"type": "template", "template": {"namespace": ns, "name": "new_offer",
            "language": {"policy": "deterministic", "code": "en"}}});
        assert_eq!(render(&templates, &pending).unwrap_err().code, 2001);
        // A send of a template paused after the coreapp last looked is refused at delivery.
        let mut paused = templates.clone();
        if let Some(otp) = paused.iter_mut().find(|t| t.name == "otp") {
            otp.status = "PAUSED".into();
        }
        assert_eq!(render(&paused, &otp).unwrap_err().code, 2061);
    }
}

/// The fields of a template the control API may create or change.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct TemplateInput {
    /// Which business: its wa_id, or left out when `namespace` names it or only one exists.
    pub business: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub language: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub components: Option<Vec<Value>>,
}
