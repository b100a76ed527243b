//! The control API's template edits.

use crate::base::errors::ControlError;
use crate::model::templates::{namespace_of, TemplateInput};
use crate::network::{Network, World};
use serde_json::Value;
use wa_netproto::templates::{Template, APPROVED};

const STATUSES: &[&str] = &["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"];

fn checked_status(status: Option<String>) -> Result<Option<String>, ControlError> {
    match status.map(|s| s.to_ascii_uppercase()) {
        Some(s) if !STATUSES.contains(&s.as_str()) => Err(ControlError::BadRequest(format!(
            "status must be one of {}",
            STATUSES.join(", ")
        ))),
        other => Ok(other),
    }
}

impl Network {
    /// Every business's templates, each with the business it belongs to.
    pub fn all_templates(&self) -> Vec<Value> {
        let world = self.world();
        let mut all: Vec<Value> = world
            .businesses
            .values()
            .flat_map(|b| {
                b.templates.iter().map(|t| {
                    let mut view = serde_json::to_value(t).unwrap_or_default();
                    view["business"] = b.wa_id.clone().into();
                    view
                })
            })
            .collect();
        all.sort_by_key(|t| {
            (
                t["business"].to_string(),
                t["name"].to_string(),
                t["language"].to_string(),
            )
        });
        all
    }

    pub fn add_template(&self, input: TemplateInput) -> Result<Template, ControlError> {
        let mut world = self.world();
        let business = business_for(
            &world,
            input.business.as_deref(),
            input.namespace.as_deref(),
        )?;
        let required = |v: Option<String>, what: &str| {
            v.filter(|s| !s.trim().is_empty())
                .ok_or_else(|| ControlError::BadRequest(format!("{what} is required")))
        };
        let template = Template {
            namespace: namespace_of(&business),
            name: required(input.name, "name")?,
            language: required(input.language, "language")?,
            status: checked_status(input.status)?.unwrap_or_else(|| APPROVED.into()),
            category: input.category.unwrap_or_else(|| "UTILITY".into()),
            components: input.components.unwrap_or_default(),
        };
        let templates = &mut world
            .businesses
            .get_mut(&business)
            .ok_or_else(|| unknown(&business))?
            .templates;
        if templates
            .iter()
            .any(|t| same(t, &template.namespace, &template.name, &template.language))
        {
            return Err(ControlError::BadRequest(format!(
                "template {}/{} already exists: change it with PATCH",
                template.name, template.language
            )));
        }
        templates.push(template.clone());
        Ok(template)
    }

    pub fn update_template(
        &self,
        key: (&str, &str, &str),
        input: TemplateInput,
    ) -> Result<Template, ControlError> {
        let status = checked_status(input.status)?;
        let mut world = self.world();
        let template = find_mut(&mut world, key)?;
        if let Some(status) = status {
            template.status = status;
        }
        if let Some(category) = input.category {
            template.category = category;
        }
        if let Some(components) = input.components {
            template.components = components;
        }
        Ok(template.clone())
    }

    pub fn delete_template(&self, key: (&str, &str, &str)) -> Result<(), ControlError> {
        let mut world = self.world();
        let (namespace, name, language) = key;
        for business in world.businesses.values_mut() {
            let before = business.templates.len();
            business
                .templates
                .retain(|t| !same(t, namespace, name, language));
            if business.templates.len() < before {
                return Ok(());
            }
        }
        Err(ControlError::NotFound(format!(
            "no template {namespace}/{name}/{language}"
        )))
    }
}

fn same(t: &Template, namespace: &str, name: &str, language: &str) -> bool {
    t.namespace == namespace && t.name == name && t.language == language
}

fn find_mut<'a>(
    world: &'a mut World,
    key: (&str, &str, &str),
) -> Result<&'a mut Template, ControlError> {
    let (namespace, name, language) = key;
    world
        .businesses
        .values_mut()
        .flat_map(|b| b.templates.iter_mut())
        .find(|t| same(t, namespace, name, language))
        .ok_or_else(|| ControlError::NotFound(format!("no template {namespace}/{name}/{language}")))
}

fn unknown(wa_id: &str) -> ControlError {
    ControlError::NotFound(format!("no business is registered as '{wa_id}'"))
}

/// The business named by wa_id or namespace, or the only one.
fn business_for(
    world: &World,
    wa_id: Option<&str>,
    namespace: Option<&str>,
) -> Result<String, ControlError> {
    if let Some(wa_id) = wa_id {
        let wa_id = crate::base::phone::wa_id(wa_id).unwrap_or_else(|| wa_id.to_string());
        return world
            .businesses
            .contains_key(&wa_id)
            .then_some(wa_id.clone())
            .ok_or_else(|| unknown(&wa_id));
    }
    if let Some(namespace) = namespace {
        return world
            .businesses
            .keys()
            .find(|b| namespace_of(b) == namespace)
            .cloned()
            .ok_or_else(|| {
                ControlError::NotFound(format!("no business has namespace '{namespace}'"))
            });
    }
    let mut all = world.businesses.keys();
    match (all.next(), all.next()) {
        (Some(only), None) => Ok(only.clone()),
        (None, _) => Err(ControlError::BadRequest(
            "no business is registered yet".into(),
        )),
        _ => Err(ControlError::BadRequest(
            "several businesses are registered: say which one in 'business'".into(),
        )),
    }
}
