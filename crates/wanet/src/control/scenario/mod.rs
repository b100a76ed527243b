//! Scenarios: one file that sets up a network for a class of integration pitfall (the run-time
//! options, consumers and their profiles, region and prefix rules, latency, templates, catalogs,
//! limits, terms) and plays timed events (consumers writing, outages, a phone going off and
//! coming back). Loaded at start (`--scenario FILE`, `WANET_SCENARIO`) or posted to
//! `POST /control/scenarios`, in TOML or JSON. Every step goes through the control API's own
//! checks (actions.rs, config.rs). What needs a business number that has not registered yet
//! waits for it (waiting.rs).

mod events;
mod waiting;

pub use waiting::{at_registration, view as waiting_view};

use crate::base::errors::ControlError;
use crate::config::{RuntimeConfig, RuntimeConfigChange};
use crate::control::actions::{self, LatencyRule, NewConsumer, PrefixRule};
use crate::model::catalogs::CatalogInput;
use crate::model::templates::TemplateInput;
use crate::network::Network;
use events::{play, Event, LimitsSetup, TermsSetup};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use waiting::Waiting;

/// The most events one scenario may schedule.
const MAX_EVENTS: usize = 10_000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: Option<String>,
    pub description: Option<String>,
    /// The run-time options, by the names of `PATCH /control/config`; applied first.
    pub config: Option<RuntimeConfigChange>,
    #[serde(default)]
    pub consumers: Vec<NewConsumer>,
    /// Prefix and region rules: a number range (a country code, or a region inside one) and the
    /// profile its users have.
    #[serde(default)]
    pub profiles: Vec<PrefixRule>,
    #[serde(default)]
    pub latency: Vec<LatencyRule>,
    /// Templates, limits and terms act on a business: the one they name, else the only one
    /// registered; one not registered yet is waited for (waiting.rs).
    #[serde(default)]
    pub templates: Vec<TemplateInput>,
    #[serde(default)]
    pub catalogs: Vec<CatalogSetup>,
    #[serde(default)]
    pub limits: Vec<LimitsSetup>,
    #[serde(default)]
    pub terms: Vec<TermsSetup>,
    #[serde(default)]
    pub events: Vec<Event>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogSetup {
    pub catalog_id: String,
    /// What `PUT /control/catalogs/{catalog_id}` takes.
    pub catalog: CatalogInput,
}

/// What loading a scenario did.
#[derive(Debug, Default, Serialize)]
pub struct Loaded {
    pub name: Option<String>,
    pub description: Option<String>,
    /// The run-time options in force after the `[config]` section, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<RuntimeConfig>,
    /// Set-up steps applied.
    pub applied: usize,
    /// Set-up steps refused, each with why (the control API's message).
    pub errors: Vec<String>,
    /// Set-up steps kept until the business they need registers.
    pub waiting: usize,
    /// Events scheduled.
    pub events: usize,
    /// Whether the events wait for a business to register (they then play from its
    /// registration instead of from now).
    pub events_wait: bool,
}

impl Scenario {
    /// Parses a scenario: TOML, or JSON when the text is a JSON object.
    pub fn parse(text: &str) -> Result<Self, ControlError> {
        let parsed = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| e.to_string())
        } else {
            toml::from_str(text).map_err(|e| e.to_string())
        };
        let scenario: Scenario =
            parsed.map_err(|e| ControlError::BadRequest(format!("invalid scenario: {e}")))?;
        if let Some(change) = &scenario.config {
            change
                .apply_to(RuntimeConfig::default())
                .map_err(|e| ControlError::BadRequest(format!("invalid scenario: config: {e}")))?;
        }
        if scenario.events.len() > MAX_EVENTS {
            return Err(ControlError::BadRequest(format!(
                "a scenario may schedule at most {MAX_EVENTS} events"
            )));
        }
        Ok(scenario)
    }

    pub fn read(path: &Path) -> std::io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        Self::parse(&text).map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))
    }

    /// Applies the options and the set-up and schedules the events on the current tokio
    /// runtime; keeps what needs a business that has not registered for its registration.
    pub fn load(self, network: &Arc<Network>) -> Loaded {
        let mut loaded = Loaded {
            name: self.name.clone(),
            description: self.description.clone(),
            events: self.events.len(),
            ..Loaded::default()
        };
        if let Some(change) = &self.config {
            match super::config::apply(network, change) {
                Ok(config) => loaded.config = Some(config),
                Err(e) => loaded.errors.push(e.to_string()),
            }
        }
        for result in self.setup_steps(network) {
            match result {
                Ok(Step::Applied) => loaded.applied += 1,
                Ok(Step::Waiting) => loaded.waiting += 1,
                Err(e) => loaded.errors.push(e.to_string()),
            }
        }
        if !self.events.is_empty() {
            match waiting::events_wait_for(network, &self.events) {
                Some(business) => {
                    let events = Waiting::Events {
                        name: self.name.clone(),
                        events: self.events,
                    };
                    let key = waiting::key(self.name.as_deref(), "events", 0, &events);
                    loaded.events_wait = waiting::keep(network, key, business, events).is_ok();
                    if !loaded.events_wait {
                        loaded.errors.push(waiting::FULL.into());
                    }
                }
                None => {
                    tokio::spawn(play(network.clone(), self.name, self.events));
                }
            }
        }
        loaded
    }

    fn setup_steps(&self, network: &Arc<Network>) -> Vec<Result<Step, ControlError>> {
        let mut out = Vec::new();
        for consumer in &self.consumers {
            out.push(applied(actions::upsert_consumer(network, consumer.clone())));
        }
        for rule in &self.profiles {
            out.push(applied(actions::set_prefix_rule(network, rule.clone())));
        }
        for rule in &self.latency {
            out.push(applied(actions::set_latency_rule(network, rule.clone())));
        }
        for (index, template) in self.templates.iter().enumerate() {
            let step = Waiting::Template(template.clone());
            out.push(self.bound(network, index, step));
        }
        for setup in &self.catalogs {
            // A catalog names the numbers it is linked to: it needs none of them registered.
            let put = network.put_catalog(&setup.catalog_id, setup.catalog.clone());
            out.push(applied(put));
        }
        for (index, limits) in self.limits.iter().enumerate() {
            out.push(self.bound(network, index, Waiting::Limits(limits.clone())));
        }
        for (index, terms) in self.terms.iter().enumerate() {
            out.push(self.bound(network, index, Waiting::Terms(terms.clone())));
        }
        out
    }

    /// A step that acts on a business (the `index`th of its section): applied now, or kept
    /// until the business registers.
    fn bound(
        &self,
        network: &Arc<Network>,
        index: usize,
        step: Waiting,
    ) -> Result<Step, ControlError> {
        match waiting::step_waits_for(network, &step) {
            None => waiting::apply(network, step).map(|()| Step::Applied),
            Some(business) => {
                let key = waiting::key(self.name.as_deref(), step.section(), index, &step);
                waiting::keep(network, key, business, step).map(|()| Step::Waiting)
            }
        }
    }
}

/// What became of a set-up step that was not refused.
enum Step {
    Applied,
    /// Kept until the business it needs registers.
    Waiting,
}

fn applied<T>(result: Result<T, ControlError>) -> Result<Step, ControlError> {
    result.map(|_| Step::Applied)
}
