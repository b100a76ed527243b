//! `template` and the legacy `hsm` (spec §2.4.6, §2.4.7, §2.2 inner-field rules). The shape is
//! checked here; hydration against the known templates happens in `crate::domain::templates`.

use super::fields::{
    display, element, exactly_one, mandatory_for, optional_array, optional_object, optional_str,
    reject, required_str, url, Object,
};
use serde_json::{json, Value};
use wa_api::{ApiError, ErrorCode};
use wa_netproto::templates::Policy;

/// What a template (or hsm) send names, in the `template` form.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSend {
    pub namespace: String,
    pub name: String,
    pub language: String,
    pub policy: Policy,
    pub components: Vec<Value>,
}

const COMPONENT_TYPES: &[&str] = &["header", "body", "footer", "button"];
const PARAMETER_TYPES: &[&str] = &[
    "text",
    "currency",
    "date_time",
    "image",
    "document",
    "video",
    "payload",
];

pub fn template_object(template: &Object) -> Result<TemplateSend, ApiError> {
    let dep = "type";
    reject(
        template,
        &["element_name", "body", "id", "caption", "filename"],
        dep,
        "template",
    )?;
    let namespace = namespace(template, "template")?;
    let name =
        optional_str(template, "name")?.ok_or_else(|| mandatory_for("name", dep, "template"))?;
    let (language, policy) = language(template, "template")?;
    let components = optional_array(template, "components")?.unwrap_or_default();
    for component in components {
        check_component(element(component, "components")?)?;
    }
    Ok(TemplateSend {
        namespace,
        name: name.to_string(),
        language,
        policy,
        components: components.to_vec(),
    })
}

fn namespace(object: &Object, kind: &str) -> Result<String, ApiError> {
    let namespace = optional_str(object, "namespace")?
        .ok_or_else(|| mandatory_for("namespace", "type", kind))?;
    if namespace.trim().is_empty() {
        return Err(ApiError::new(
            ErrorCode::ExpectedNamespaceEmpty,
            "The namespace must not be empty",
        ));
    }
    Ok(namespace.to_string())
}

/// `language` needs both `code` and `policy`; the legacy `fallback_lg`/`fallback_lc` cannot be
/// combined with it. An hsm may use the legacy pair alone (then the policy is `fallback`).
fn language(object: &Object, kind: &str) -> Result<(String, Policy), ApiError> {
    let legacy = optional_str(object, "fallback_lg")?;
    let Some(language) = optional_object(object, "language")? else {
        return match legacy {
            Some(lg) if kind == "hsm" => {
                let lc = optional_str(object, "fallback_lc")?;
                Ok((
                    lc.map_or(lg.to_string(), |lc| format!("{lg}_{lc}")),
                    Policy::Fallback,
                ))
            }
            _ => Err(mandatory_for("language", "type", kind)),
        };
    };
    reject(
        object,
        &["fallback_lg", "fallback_lc"],
        "parameter",
        "language",
    )?;
    let code = required_str(language, "code")?;
    let policy = match required_str(language, "policy")? {
        "deterministic" => Policy::Deterministic,
        "fallback" => Policy::Fallback,
        other => return Err(ApiError::invalid_parameter("policy", other)),
    };
    if code.trim().is_empty() {
        return Err(ApiError::invalid_parameter("code", code));
    }
    Ok((code.to_string(), policy))
}

fn check_component(component: &Object) -> Result<(), ApiError> {
    let kind = required_str(component, "type")?;
    if !COMPONENT_TYPES.contains(&kind) {
        return Err(ApiError::invalid_parameter("type", kind));
    }
    if kind == "button" {
        match required_str(component, "sub_type")? {
            "quick_reply" | "url" => {}
            other => return Err(ApiError::invalid_parameter("sub_type", other)),
        }
        if wa_netproto::templates::button_index(&Value::Object(component.clone())).is_none() {
            return Err(match component.get("index") {
                None | Some(Value::Null) => ApiError::missing_parameter("index"),
                Some(other) => ApiError::invalid_parameter("index", &display(other)),
            });
        }
    }
    for parameter in optional_array(component, "parameters")?.unwrap_or_default() {
        check_parameter(element(parameter, "parameters")?)?;
    }
    Ok(())
}

fn check_parameter(parameter: &Object) -> Result<(), ApiError> {
    let kind = required_str(parameter, "type")?;
    if !PARAMETER_TYPES.contains(&kind) {
        return Err(ApiError::invalid_parameter("type", kind));
    }
    if matches!(kind, "text" | "payload") {
        return optional_str(parameter, kind)?
            .map(|_| ())
            .ok_or_else(|| mandatory_for(kind, "type", kind));
    }
    let value =
        optional_object(parameter, kind)?.ok_or_else(|| mandatory_for(kind, "type", kind))?;
    match kind {
        "currency" => {
            required_str(value, "fallback_value")?;
            required_str(value, "code")?;
            amount_1000(value)
        }
        "date_time" => required_str(value, "fallback_value").map(|_| ()),
        _ => {
            exactly_one(value, "id", "link")?;
            url(value, "link").map(|_| ())
        }
    }
}

fn amount_1000(currency: &Object) -> Result<(), ApiError> {
    match currency.get("amount_1000") {
        None | Some(Value::Null) => Err(ApiError::missing_parameter("amount_1000")),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(()),
        Some(other) => Err(ApiError::invalid_parameter("amount_1000", &display(other))),
    }
}

/// The legacy form, turned into the `template` form for hydration: `localizable_params` become
/// body parameters (text, or currency/date_time with `default` as their fallback).
pub fn hsm_object(hsm: &Object) -> Result<TemplateSend, ApiError> {
    reject(
        hsm,
        &["body", "id", "caption", "filename", "name"],
        "type",
        "hsm",
    )?;
    let namespace = namespace(hsm, "hsm")?;
    let name = optional_str(hsm, "element_name")?
        .ok_or_else(|| mandatory_for("element_name", "type", "hsm"))?;
    let (language, policy) = language(hsm, "hsm")?;
    let params = optional_array(hsm, "localizable_params")?.unwrap_or_default();
    let parameters = params
        .iter()
        .map(|p| localizable_param(element(p, "localizable_params")?))
        .collect::<Result<Vec<_>, _>>()?;
    let components = if parameters.is_empty() {
        Vec::new()
    } else {
        vec![json!({ "type": "body", "parameters": parameters })]
    };
    Ok(TemplateSend {
        namespace,
        name: name.to_string(),
        language,
        policy,
        components,
    })
}

fn localizable_param(param: &Object) -> Result<Value, ApiError> {
    let default = required_str(param, "default")?;
    for kind in ["currency", "date_time"] {
        if optional_object(param, kind)?.is_some() {
            return Ok(json!({ "type": kind, kind: { "fallback_value": default } }));
        }
    }
    Ok(json!({ "type": "text", "text": default }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(v: Value) -> Result<TemplateSend, ApiError> {
        template_object(v.as_object().unwrap())
    }

    fn code(r: Result<TemplateSend, ApiError>) -> u32 {
        r.map_or_else(|e| e.first_code(), |_| 0)
    }

    fn base() -> Value {
        json!({"namespace": "ns", "name": "hello", "language": {"policy": "deterministic", "code": "en_US"}})
    }

    fn with(key: &str, value: Value) -> Value {
        let mut t = base();
        t[key] = value;
        t
    }

    #[test]
    fn template_shape_rules() {
        assert_eq!(code(template(base())), 0);
        assert_eq!(code(template(with("namespace", json!("")))), 2014);
        assert_eq!(code(template(with("namespace", Value::Null))), 1008);
        assert_eq!(code(template(with("name", Value::Null))), 1008);
        assert_eq!(code(template(with("element_name", json!("x")))), 1010);
        assert_eq!(
            code(template(with("language", json!({"code": "en"})))),
            1008
        );
        assert_eq!(
            code(template(with(
                "language",
                json!({"code": "en", "policy": "best"})
            ))),
            1009
        );
        assert_eq!(code(template(with("fallback_lg", json!("en")))), 1010);
        assert_eq!(code(template(with("components", json!({})))), 1009);
        assert_eq!(
            code(template(with("components", json!([{"type": "sidebar"}])))),
            1009
        );
        let bad_param = json!([{"type": "body", "parameters": [{"type": "location"}]}]);
        assert_eq!(code(template(with("components", bad_param))), 1009);
        let no_amount = json!([{"type": "body", "parameters": [{"type": "currency", "currency": {"fallback_value": "$1", "code": "USD"}}]}]);
        assert_eq!(code(template(with("components", no_amount))), 1008);
        let both = json!([{"type": "header", "parameters": [{"type": "image", "image": {"id": "a", "link": "https://a.example/x"}}]}]);
        assert_eq!(code(template(with("components", both))), 1010);
        let no_index = json!([{"type": "button", "sub_type": "url", "parameters": []}]);
        assert_eq!(code(template(with("components", no_index))), 1008);
    }

    #[test]
    fn hsm_becomes_a_template_send() {
        let hsm = json!({"namespace": "ns", "element_name": "otp", "language": {"policy": "deterministic", "code": "en"},
                         "localizable_params": [{"default": "123456"}, {"default": "$1", "currency": {"currency_code": "USD", "amount_1000": 1000}}]});
        let send = hsm_object(hsm.as_object().unwrap()).unwrap();
        assert_eq!(send.name, "otp");
        assert_eq!(
            send.components[0]["parameters"][1]["currency"]["fallback_value"],
            "$1"
        );
        let legacy = json!({"namespace": "ns", "element_name": "otp", "fallback_lg": "en", "fallback_lc": "US"});
        assert_eq!(
            hsm_object(legacy.as_object().unwrap()).unwrap().language,
            "en_US"
        );
        let no_name =
            json!({"namespace": "ns", "language": {"policy": "deterministic", "code": "en"}});
        assert_eq!(
            hsm_object(no_name.as_object().unwrap())
                .unwrap_err()
                .first_code(),
            1008
        );
    }
}
