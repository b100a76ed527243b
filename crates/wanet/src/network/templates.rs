//! Template edits: the control API's, and the business's own submissions and deletions over
//! the protocol.

use crate::base::errors::{access_denied, ControlError};
use crate::model::submissions::{checked, Submission, REVIEW_DELAY};
use crate::model::templates::{namespace_of, TemplateInput};
use crate::network::{Network, World};
use serde_json::Value;
use std::sync::Arc;
use wa_netproto::templates::{Template, APPROVED, PENDING};
use wa_netproto::{NetError, Push, Response};

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
        let before = template.status.clone();
        if let Some(status) = status {
            template.status = status;
        }
        if let Some(category) = input.category {
            template.category = category;
        }
        if let Some(components) = input.components {
            template.components = components;
        }
        let template = template.clone();
        if template.status != before {
            announce_status(&mut world, &template);
        }
        Ok(template)
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

/// Tells the business that owns `template` of its new status, as WhatsApp Manager's
/// `message_template_status_update` webhook does; kept until its coreapp acknowledges it.
fn announce_status(world: &mut World, template: &Template) {
    let owner = world.businesses.values_mut().find(|b| {
        b.templates
            .iter()
            .any(|t| same(t, &template.namespace, &template.name, &template.language))
    });
    if let Some(business) = owner {
        business.outbox.push(Push::TemplateStatus {
            namespace: template.namespace.clone(),
            name: template.name.clone(),
            language: template.language.clone(),
            status: template.status.clone(),
        });
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

impl Network {
    /// `Request::CreateTemplate`: checks the submission (`model::submissions`), keeps it
    /// `PENDING` and starts its review, which approves it after `REVIEW_DELAY` scaled by
    /// `time_scale`. 1004 when the business already has the name in that language.
    pub fn submit_template(
        self: &Arc<Self>,
        business: &str,
        name: &str,
        language: &str,
        category: &str,
        components: &[Value],
    ) -> Result<Response, NetError> {
        let namespace = namespace_of(business);
        let template = checked(&Submission {
            namespace: &namespace,
            name,
            language,
            category,
            components,
        })?;
        {
            let mut world = self.world();
            let templates = &mut world
                .businesses
                .get_mut(business)
                .ok_or_else(|| access_denied("the business is not registered"))?
                .templates;
            if templates
                .iter()
                .any(|t| same(t, &namespace, name, language))
            {
                return Err(
                    NetError::new(1004, "Resource already exists").with_details(format!(
                        "Template '{name}' already exists in language '{language}'"
                    )),
                );
            }
            templates.push(template.clone());
        }
        let delay = REVIEW_DELAY.mul_f64(self.rules().time_scale);
        let network = Arc::clone(self);
        let business = business.to_string();
        let key = (template.name.clone(), template.language.clone());
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            network.approve(&business, &key.0, &key.1);
        });
        Ok(Response::TemplateCreated { template })
    }

    /// Ends the review of a pending template with approval; a template deleted or decided
    /// otherwise meanwhile (through the control API) is left as it is.
    fn approve(&self, business: &str, name: &str, language: &str) {
        let namespace = namespace_of(business);
        let mut world = self.world();
        let pending = world
            .businesses
            .get_mut(business)
            .into_iter()
            .flat_map(|b| b.templates.iter_mut())
            .find(|t| same(t, &namespace, name, language) && t.status == PENDING);
        if let Some(template) = pending {
            template.status = APPROVED.to_string();
            let template = template.clone();
            announce_status(&mut world, &template);
        }
    }

    /// `Request::DeleteTemplate`: every translation of `name`, or only `language`'s; 1006 when
    /// none matched.
    pub fn remove_template(
        &self,
        business: &str,
        name: &str,
        language: Option<&str>,
    ) -> Result<Response, NetError> {
        let mut world = self.world();
        let templates = &mut world
            .businesses
            .get_mut(business)
            .ok_or_else(|| access_denied("the business is not registered"))?
            .templates;
        let before = templates.len();
        templates.retain(|t| !(t.name == name && language.is_none_or(|l| t.language == l)));
        let count = u32::try_from(before - templates.len()).unwrap_or(u32::MAX);
        if count == 0 {
            let which = language.map_or_else(String::new, |l| format!(" in language '{l}'"));
            return Err(NetError::new(1006, "Resource not found")
                .with_details(format!("No template '{name}'{which}")));
        }
        Ok(Response::TemplatesDeleted { count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Rules, WanetConfig};
    use crate::network::Business;
    use crate::routing::shards::SessionLink;
    use serde_json::json;

    const BUSINESS: &str = "16315550000";

    fn network(time_scale: f64) -> Arc<Network> {
        let config = WanetConfig {
            time_scale,
            ..WanetConfig::default()
        };
        let network = Arc::new(Network::new(Rules::from_config(&config), Some(1)));
        network.world().businesses.insert(
            BUSINESS.into(),
            Business::new(BUSINESS.into(), "Acme".into(), "secret".into()),
        );
        network
    }

    fn status_of(network: &Network, name: &str, language: &str) -> Option<String> {
        network.world().businesses[BUSINESS]
            .templates
            .iter()
            .find(|t| t.name == name && t.language == language)
            .map(|t| t.status.clone())
    }

    fn body() -> Vec<Value> {
        vec![json!({"type": "body", "text": "Hi {{1}}"})]
    }

    #[tokio::test(start_paused = true)]
    async fn a_submission_is_pending_then_approved_after_the_review_delay() {
        let network = network(1.0);
        let answer = network
            .submit_template(BUSINESS, "welcome", "en_US", "utility", &body())
            .unwrap();
        let Response::TemplateCreated { template } = answer else {
            panic!("unexpected answer {answer:?}");
        };
        assert_eq!(
            (template.status.as_str(), template.category.as_str()),
            (PENDING, "UTILITY")
        );
        assert_eq!(template.namespace, namespace_of(BUSINESS));
        assert_eq!(template.components[0]["type"], "BODY");
        tokio::time::sleep(REVIEW_DELAY / 2).await;
        assert_eq!(
            status_of(&network, "welcome", "en_US").as_deref(),
            Some(PENDING)
        );
        tokio::time::sleep(REVIEW_DELAY).await;
        assert_eq!(
            status_of(&network, "welcome", "en_US").as_deref(),
            Some(APPROVED)
        );
    }

    /// The status changes the business has been told of, in order (a session takes them).
    fn announced(network: &Network) -> Vec<(String, String, String)> {
        let mut world = network.world();
        let outbox = &mut world.businesses.get_mut(BUSINESS).unwrap().outbox;
        outbox
            .attach(SessionLink::new(7), wa_netproto::SessionScope::Whole)
            .unwrap();
        let taken = outbox.take(7, 100).unwrap();
        outbox.detach(7);
        taken
            .into_iter()
            .filter_map(|(_, push)| match push {
                Push::TemplateStatus {
                    name,
                    language,
                    status,
                    ..
                } => Some((name, language, status)),
                _ => None,
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn the_business_is_told_of_the_approval_and_of_status_changes() {
        let network = network(1.0);
        network
            .submit_template(BUSINESS, "welcome", "en_US", "UTILITY", &body())
            .unwrap();
        assert!(announced(&network).is_empty(), "nothing while pending");
        tokio::time::sleep(REVIEW_DELAY * 2).await;
        let approved = (
            "welcome".to_string(),
            "en_US".to_string(),
            APPROVED.to_string(),
        );
        assert_eq!(announced(&network), vec![approved.clone()]);

        let namespace = namespace_of(BUSINESS);
        let key = (namespace.as_str(), "welcome", "en_US");
        let paused = TemplateInput {
            status: Some("paused".into()),
            ..TemplateInput::default()
        };
        network.update_template(key, paused).unwrap();
        // Only a change of status is news: a category edit is not.
        let recategorized = TemplateInput {
            category: Some("MARKETING".into()),
            ..TemplateInput::default()
        };
        network.update_template(key, recategorized).unwrap();
        let expected = vec![
            approved,
            (
                "welcome".to_string(),
                "en_US".to_string(),
                "PAUSED".to_string(),
            ),
        ];
        assert_eq!(announced(&network), expected);
    }

    #[tokio::test(start_paused = true)]
    async fn review_follows_the_time_scale() {
        let network = network(10.0);
        network
            .submit_template(BUSINESS, "welcome", "en", "MARKETING", &body())
            .unwrap();
        tokio::time::sleep(REVIEW_DELAY * 5).await;
        assert_eq!(
            status_of(&network, "welcome", "en").as_deref(),
            Some(PENDING)
        );
        tokio::time::sleep(REVIEW_DELAY * 6).await;
        assert_eq!(
            status_of(&network, "welcome", "en").as_deref(),
            Some(APPROVED)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn duplicates_and_invalid_submissions_are_refused() {
        let network = network(1.0);
        // A seeded template's name and language.
        let duplicate =
            network.submit_template(BUSINESS, "hello_world", "en_US", "UTILITY", &body());
        assert_eq!(duplicate.unwrap_err().code, 1004);
        let invalid = network.submit_template(BUSINESS, "Hello", "en_US", "UTILITY", &body());
        assert_eq!(invalid.unwrap_err().code, 1009);
        let no_business = network.submit_template("16315559999", "fine", "en", "UTILITY", &body());
        assert_eq!(no_business.unwrap_err().code, 1005);
        // Another language of an existing name is a new translation.
        network
            .submit_template(BUSINESS, "hello_world", "fr", "UTILITY", &body())
            .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn deleting_removes_one_translation_or_all_and_an_unknown_name_is_1006() {
        let network = network(1.0);
        let one = network.remove_template(BUSINESS, "hello_world", Some("pt_BR"));
        assert_eq!(one.unwrap(), Response::TemplatesDeleted { count: 1 });
        assert!(status_of(&network, "hello_world", "en_US").is_some());
        let all = network.remove_template(BUSINESS, "order_update", None);
        assert_eq!(all.unwrap(), Response::TemplatesDeleted { count: 2 });
        let gone = network.remove_template(BUSINESS, "order_update", None);
        assert_eq!(gone.unwrap_err().code, 1006);
        let no_language = network.remove_template(BUSINESS, "hello_world", Some("de"));
        assert_eq!(no_language.unwrap_err().code, 1006);
    }

    #[tokio::test(start_paused = true)]
    async fn a_template_deleted_during_review_stays_deleted() {
        let network = network(1.0);
        network
            .submit_template(BUSINESS, "brief", "en", "UTILITY", &body())
            .unwrap();
        network.remove_template(BUSINESS, "brief", None).unwrap();
        tokio::time::sleep(REVIEW_DELAY * 2).await;
        assert_eq!(status_of(&network, "brief", "en"), None);
    }
}
