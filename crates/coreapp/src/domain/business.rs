//! Validation of the business profile (spec onprem-rest §8.8) and the compliance info (§8.9).

use serde_json::{json, Map, Value};
use wa_api::{limits, ApiError, ErrorCode};

const MAX_WEBSITES: usize = 2;
const VERTICALS: &[&str] = &[
    "Automotive",
    "Beauty, Spa and Salon",
    "Clothing and Apparel",
    "Education",
    "Entertainment",
    "Event Planning and Service",
    "Finance and Banking",
    "Food and Grocery",
    "Public Service",
    "Hotel and Lodging",
    "Medical and Health",
    "Non-profit",
    "Professional Services",
    "Shopping and Retail",
    "Travel and Transportation",
    "Restaurant",
    "Other",
];
const ENTITY_TYPES: &[&str] = &[
    "Limited liability partnership",
    "Sole proprietorship",
    "Partnership",
    "Public Company",
    "Private Company",
    "Other",
];

pub fn empty_business_profile() -> Map<String, Value> {
    let Value::Object(map) = json!({
        "address": "", "description": "", "email": "", "vertical": "", "websites": []
    }) else {
        return Map::new();
    };
    map
}

fn invalid(details: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::ParameterValueInvalid, details)
}

fn string_field<'a>(body: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ApiError::invalid_parameter(name, &other.to_string())),
    }
}

fn check_length(name: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(invalid(format!(
            "Parameter '{name}' is too long: at most {max} characters"
        )));
    }
    Ok(())
}

/// A plausible address: one `@`, something before it, a dot in the domain.
fn looks_like_email(value: &str) -> bool {
    match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// Merges the fields present in `body` into `profile` (partial update) after checking all of them;
/// nothing changes when one is invalid.
pub fn apply_business_profile(
    profile: &mut Map<String, Value>,
    body: &Map<String, Value>,
) -> Result<(), ApiError> {
    let mut changes = Map::new();
    for (name, max) in [
        ("address", limits::BUSINESS_TEXT_CHARS),
        ("description", limits::BUSINESS_TEXT_CHARS),
        ("email", limits::BUSINESS_EMAIL_CHARS),
    ] {
        if let Some(value) = string_field(body, name)? {
            check_length(name, value, max)?;
            if name == "email" && !value.is_empty() && !looks_like_email(value) {
                return Err(ApiError::invalid_parameter("email", value));
            }
            changes.insert(name.to_string(), json!(value));
        }
    }
    if let Some(vertical) = string_field(body, "vertical")? {
        check_vertical(profile, vertical)?;
        changes.insert("vertical".to_string(), json!(vertical));
    }
    if let Some(websites) = body.get("websites").filter(|v| !v.is_null()) {
        changes.insert("websites".to_string(), check_websites(websites)?);
    }
    profile.extend(changes);
    Ok(())
}

fn check_vertical(profile: &Map<String, Value>, vertical: &str) -> Result<(), ApiError> {
    if vertical.is_empty() {
        let current = profile
            .get("vertical")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !current.is_empty() {
            return Err(invalid(
                "Parameter 'vertical' cannot be reset to empty once set",
            ));
        }
        return Ok(());
    }
    if !VERTICALS.contains(&vertical) {
        return Err(ApiError::invalid_parameter("vertical", vertical));
    }
    Ok(())
}

fn check_websites(websites: &Value) -> Result<Value, ApiError> {
    let Value::Array(items) = websites else {
        return Err(ApiError::invalid_parameter(
            "websites",
            &websites.to_string(),
        ));
    };
    if items.len() > MAX_WEBSITES {
        return Err(invalid(format!(
            "Max number of websites allowed is {MAX_WEBSITES}"
        )));
    }
    for item in items {
        let Value::String(url) = item else {
            return Err(ApiError::invalid_parameter("websites", &item.to_string()));
        };
        check_length("websites", url, limits::BUSINESS_WEBSITE_CHARS)?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(invalid(format!(
                "Website '{url}' must start with http:// or https://"
            )));
        }
    }
    Ok(websites.clone())
}

/// Checks a compliance-info POST and returns what to store.
pub fn validate_compliance(body: &Map<String, Value>) -> Result<Value, ApiError> {
    let entity_name = required(body, "entity_name")?;
    let entity_type = required(body, "entity_type")?;
    if !ENTITY_TYPES.contains(&entity_type) {
        return Err(ApiError::invalid_parameter("entity_type", entity_type));
    }
    let custom = string_field(body, "entity_type_custom")?.unwrap_or("");
    if entity_type == "Other" && custom.is_empty() {
        return Err(ApiError::missing_parameter("entity_type_custom"));
    }
    let is_registered = match body.get("is_registered") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(ApiError::invalid_parameter(
                "is_registered",
                &other.to_string(),
            ))
        }
    };
    let care = contact_details(body, "customer_care_details", false)?;
    let officer = contact_details(body, "grievance_officer_details", true)?;
    Ok(json!({
        "customer_care_details": care,
        "entity_name": entity_name,
        "entity_type": entity_type,
        "entity_type_custom": custom,
        "grievance_officer_details": officer,
        "is_registered": is_registered,
    }))
}

fn required<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, ApiError> {
    match string_field(body, name)? {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(ApiError::missing_parameter(name)),
    }
}

/// `email` and at least one of `landline_number` / `mobile_number` (E.164 with `+`); `name` too
/// for the grievance officer.
fn contact_details(
    body: &Map<String, Value>,
    field: &str,
    needs_name: bool,
) -> Result<Value, ApiError> {
    let details = match body.get(field) {
        None | Some(Value::Null) => return Err(ApiError::missing_parameter(field)),
        Some(Value::Object(details)) => details,
        Some(other) => return Err(ApiError::invalid_parameter(field, &other.to_string())),
    };
    let mut out = Map::new();
    if needs_name {
        let name = required(details, "name")
            .map_err(|_| ApiError::missing_parameter(&format!("{field}.name")))?;
        out.insert("name".into(), json!(name));
    }
    let email = required(details, "email")
        .map_err(|_| ApiError::missing_parameter(&format!("{field}.email")))?;
    if !looks_like_email(email) {
        return Err(ApiError::invalid_parameter(
            &format!("{field}.email"),
            email,
        ));
    }
    out.insert("email".into(), json!(email));
    let mut numbers = 0;
    for kind in ["landline_number", "mobile_number"] {
        if let Some(number) = string_field(details, kind)?.filter(|n| !n.is_empty()) {
            if !is_e164(number) {
                return Err(ApiError::invalid_parameter(
                    &format!("{field}.{kind}"),
                    number,
                ));
            }
            out.insert(kind.into(), json!(number));
            numbers += 1;
        }
    }
    if numbers == 0 {
        return Err(ApiError::new(
            ErrorCode::RequiredParameterMissing,
            format!(
                "Missing mandatory parameter '{field}.landline_number' or '{field}.mobile_number'"
            ),
        ));
    }
    Ok(Value::Object(out))
}

fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_and_phone_shapes() {
        assert!(looks_like_email("care@example.com"));
        assert!(!looks_like_email("care@example"));
        assert!(!looks_like_email("@example.com"));
        assert!(is_e164("+910000000000"));
        assert!(!is_e164("910000000000"));
    }
}
