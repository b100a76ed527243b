//! Scenario entries that act on a business number which has not registered yet (templates,
//! limits, terms, and a timeline of events that acts on one): kept in the network's state
//! (durable, `model/pending.rs`) and applied when the number registers for the first time, so
//! a scenario given at start (`--scenario`, `WANET_SCENARIO`, `wa-dev --scenario`) before the
//! installation registered still sets up what it describes.
//!
//! An entry that names its business waits for that number; one that names none waits for the
//! first number to register, and then names it, so it keeps acting on that number when others
//! register later. A number that registers again gets nothing again: what the entries set is
//! still held for it, and playing them twice would undo later changes (terms accepted since).

use super::events::{self, Action, Event, LimitsSetup, TermsSetup};
use crate::base::errors::ControlError;
use crate::base::phone;
use crate::model::pending::PendingEntry;
use crate::model::templates::TemplateInput;
use crate::network::Network;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

pub const FULL: &str = "too many scenario entries are waiting for a registration";

/// An entry that acts on a business, in the form it waits in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "section", rename_all = "snake_case")]
pub enum Waiting {
    Template(TemplateInput),
    Limits(LimitsSetup),
    Terms(TermsSetup),
    /// The whole timeline, so its events keep their order: it plays from the registration.
    Events {
        name: Option<String>,
        events: Vec<Event>,
    },
}

impl Waiting {
    pub fn section(&self) -> &'static str {
        match self {
            Waiting::Template(_) => "templates",
            Waiting::Limits(_) => "limits",
            Waiting::Terms(_) => "terms",
            Waiting::Events { .. } => "events",
        }
    }

    /// The entry with the business it left unnamed set to `business`.
    fn naming(mut self, business: &str) -> Waiting {
        let name = |named: &mut Option<String>| {
            named.get_or_insert_with(|| business.to_string());
        };
        match &mut self {
            Waiting::Template(t) if t.namespace.is_none() => name(&mut t.business),
            Waiting::Template(_) => {}
            Waiting::Limits(l) => name(&mut l.business),
            Waiting::Terms(t) => name(&mut t.business),
            Waiting::Events { events, .. } => {
                for event in events {
                    match &mut event.action {
                        Action::Limits(l) => name(&mut l.business),
                        Action::Terms(t) => name(&mut t.business),
                        Action::Message { message, .. } => {
                            message.entry("to").or_insert_with(|| Value::from(business));
                        }
                        _ => {}
                    }
                }
            }
        }
        self
    }
}

/// Whether an entry naming `named` (or none) must wait: `Some(Some(number))` for that number,
/// `Some(None)` for the first number to register (none is registered), `None` to apply it now.
/// A name that is no phone number does not wait: applying it says why it is refused.
fn waits_for(network: &Network, named: Option<&str>) -> Option<Option<String>> {
    let world = network.world();
    match named {
        Some(named) => {
            let wa_id = phone::wa_id(named)?;
            (!world.businesses.contains_key(&wa_id)).then_some(Some(wa_id))
        }
        None => world.businesses.is_empty().then_some(None),
    }
}

/// The business `step` waits for, if it must (see [`waits_for`]).
pub fn step_waits_for(network: &Network, step: &Waiting) -> Option<Option<String>> {
    match step {
        // A template named by its namespace alone waits only while no number is registered.
        Waiting::Template(t) => waits_for(network, t.business.as_deref()),
        Waiting::Limits(l) => waits_for(network, l.business.as_deref()),
        Waiting::Terms(t) => waits_for(network, t.business.as_deref()),
        Waiting::Events { events, .. } => events_wait_for(network, events),
    }
}

/// The business the timeline waits for: that of its first event which acts on a business not
/// registered yet (a consumer's message to it, its terms or limits).
pub fn events_wait_for(network: &Network, events: &[Event]) -> Option<Option<String>> {
    events.iter().find_map(|event| match &event.action {
        Action::Message { message, .. } => {
            waits_for(network, message.get("to").and_then(Value::as_str))
        }
        Action::Terms(t) => waits_for(network, t.business.as_deref()),
        Action::Limits(l) => waits_for(network, l.business.as_deref()),
        _ => None,
    })
}

/// The key an entry waits under: its scenario (by name, else by content), section and place,
/// so loading the same scenario again replaces its entries.
pub fn key(name: Option<&str>, section: &str, index: usize, step: &Waiting) -> String {
    let scenario = match name {
        Some(name) => name.to_string(),
        None => {
            let mut hasher = DefaultHasher::new();
            serde_json::to_string(step)
                .unwrap_or_default()
                .hash(&mut hasher);
            format!("unnamed-{:016x}", hasher.finish())
        }
    };
    format!("{scenario}/{section}/{index}")
}

/// Keeps `step` until `business` (or the first number) registers.
pub fn keep(
    network: &Network,
    key: String,
    business: Option<String>,
    step: Waiting,
) -> Result<(), ControlError> {
    let entry = serde_json::to_value(&step).map_err(|e| ControlError::BadRequest(e.to_string()))?;
    let waits = business
        .as_ref()
        .map_or("the first number to register".to_string(), |b| {
            format!("+{b}")
        });
    let pending = PendingEntry {
        key: key.clone(),
        business,
        entry,
    };
    if !network.world().pending.keep(pending) {
        return Err(ControlError::BadRequest(FULL.into()));
    }
    tracing::info!("scenario entry {key} waits for {waits} to register");
    Ok(())
}

/// Applies one entry now.
pub fn apply(network: &Arc<Network>, step: Waiting) -> Result<(), ControlError> {
    match step {
        Waiting::Template(t) => network.add_template(t).map(drop),
        Waiting::Limits(l) => events::set_limits(network, &l),
        Waiting::Terms(t) => events::set_terms(network, &t),
        Waiting::Events { name, events } => {
            tokio::spawn(events::play(network.clone(), name, events));
            Ok(())
        }
    }
}

/// The registration hook: applies what waited for `business`, in the order it was loaded.
/// Runs before the network answers the registration, so the coreapp never sees the number
/// without them.
pub fn at_registration(network: &Arc<Network>, business: &str) {
    let entries = network.world().pending.take_for(business);
    for entry in entries {
        let step = match serde_json::from_value::<Waiting>(entry.entry) {
            Ok(step) => step.naming(business),
            Err(e) => {
                tracing::warn!("scenario entry {} skipped: {e}", entry.key);
                continue;
            }
        };
        match apply(network, step) {
            Ok(()) => tracing::info!(
                "scenario entry {} applied at the registration of +{business}",
                entry.key
            ),
            Err(e) => tracing::warn!(
                "scenario entry {} refused at the registration of +{business}: {e}",
                entry.key
            ),
        }
    }
}

/// What waits, as `GET /control/scenarios/waiting` shows it.
pub fn view(network: &Network) -> Value {
    serde_json::json!({ "waiting": network.world().pending.entries() })
}
