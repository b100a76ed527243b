//! `POST`/`DELETE /{waba-id}/message_templates`: a Cloud template submission or deletion read
//! into the internal calls the coreapp answers (`/rpc/templates`), which pass them to the
//! network. Only the Graph-level checks are made here (fields present and of the right JSON
//! kind, answered 100 as Graph answers them); what review decides (name, category, components)
//! is the network's, in On-Prem codes through the one table.

use super::CloudError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The body of `POST /rpc/templates`: one translation submitted for review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateSubmission {
    pub name: String,
    pub language: String,
    pub category: String,
    pub components: Vec<Value>,
}

/// The body of `DELETE /rpc/templates`: every translation of `name`, or one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateDeletion {
    pub name: String,
    #[serde(default)]
    pub language: Option<String>,
}

/// How a Cloud template names its variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterFormat {
    /// `{{1}}`, `{{2}}`: what the core hydrates.
    Positional,
    /// `{{first_name}}`: not supported by the core's hydration.
    Named,
}

impl ParameterFormat {
    fn parse(value: &str) -> Option<ParameterFormat> {
        match value.to_ascii_uppercase().as_str() {
            "POSITIONAL" => Some(ParameterFormat::Positional),
            "NAMED" => Some(ParameterFormat::Named),
            _ => None,
        }
    }
}

fn required_text(body: &Map<String, Value>, field: &str) -> Result<String, CloudError> {
    match body.get(field) {
        None | Some(Value::Null) => Err(CloudError::invalid_parameter(format!(
            "The parameter {field} is required."
        ))),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(CloudError::invalid_parameter(format!(
            "Param {field} must be a string."
        ))),
    }
}

/// The submission a Cloud create body asks for. `allow_category_change` is accepted and has no
/// effect (review here never recategorizes); `parameter_format` may only be `POSITIONAL`.
pub fn submission(body: &Map<String, Value>) -> Result<TemplateSubmission, CloudError> {
    let name = required_text(body, "name")?;
    let language = required_text(body, "language")?;
    let category = required_text(body, "category")?;
    let components = match body.get("components") {
        None | Some(Value::Null) => {
            return Err(CloudError::invalid_parameter(
                "The parameter components is required.",
            ))
        }
        Some(Value::Array(components)) => components.clone(),
        Some(_) => {
            return Err(CloudError::invalid_parameter(
                "Param components must be an array.",
            ))
        }
    };
    match body.get("allow_category_change") {
        None | Some(Value::Null | Value::Bool(_)) => {}
        Some(_) => {
            return Err(CloudError::invalid_parameter(
                "Param allow_category_change must be a boolean.",
            ))
        }
    }
    match body.get("parameter_format") {
        None | Some(Value::Null) => {}
        Some(Value::String(format)) => {
            match ParameterFormat::parse(format) {
                Some(ParameterFormat::Positional) => {}
                Some(ParameterFormat::Named) => return Err(CloudError::invalid_parameter(
                    "parameter_format NAMED is not supported: number the variables ({{1}}, {{2}})",
                )),
                None => {
                    return Err(CloudError::invalid_parameter(
                        "Param parameter_format must be one of {POSITIONAL, NAMED}",
                    ))
                }
            }
        }
        Some(_) => {
            return Err(CloudError::invalid_parameter(
                "Param parameter_format must be a string.",
            ))
        }
    }
    Ok(TemplateSubmission {
        name,
        language,
        category,
        components,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(body: Value) -> Result<TemplateSubmission, CloudError> {
        submission(body.as_object().unwrap())
    }

    #[test]
    fn a_cloud_body_becomes_a_submission() {
        let body = json!({"name": "sale", "language": "en_US", "category": "MARKETING",
            "allow_category_change": true, "parameter_format": "positional",
            "components": [{"type": "BODY", "text": "Hi"}]});
        let submitted = read(body).unwrap();
        assert_eq!(submitted.name, "sale");
        assert_eq!(submitted.components.len(), 1);
    }

    #[test]
    fn missing_and_mistyped_fields_are_100() {
        let full = json!({"name": "sale", "language": "en", "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Hi"}]});
        for field in ["name", "language", "category", "components"] {
            let mut body = full.clone();
            body.as_object_mut().unwrap().remove(field);
            let error = read(body).unwrap_err();
            assert_eq!(error.code.code(), 100, "{field}");
            assert!(error.details.contains(field), "{}", error.details);
            let mut body = full.clone();
            body[field] = json!(7);
            assert_eq!(read(body).unwrap_err().code.code(), 100, "{field}");
        }
        for (field, value) in [
            ("parameter_format", json!("NAMED")),
            ("parameter_format", json!("LOOSE")),
            ("allow_category_change", json!("yes")),
        ] {
            let mut body = full.clone();
            body[field] = value;
            assert_eq!(read(body).unwrap_err().code.code(), 100, "{field}");
        }
    }
}
