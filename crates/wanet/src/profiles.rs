//! What each recipient profile's phone does with a business's message (design.md §5), and the
//! prefix rules that give whole number ranges a profile.

use crate::directory::Profile;
use crate::errors::user_not_valid;
use crate::messaging::Delivery;
use crate::network::{Network, World};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use wa_netproto::{NetError, ReceiptStatus};

/// Country codes whose users no business message reaches: sanctioned regions (Cuba, Iran,
/// North Korea, Syria) and Turkey (+90).
const UNREACHABLE_PREFIXES: &[&str] = &["53", "98", "850", "963", "90"];

/// What the network will do with an accepted message once the delivery latency has passed.
pub enum Outcome {
    Fail(NetError),
    Deliver {
        read: bool,
    },
    /// No receipt ever comes: the message stays `sent`.
    StaySent,
    /// One device reports `delivered`, another `failed` with this error.
    Disagree(NetError),
}

/// Profiles by number prefix; the longest matching prefix wins, an explicitly set consumer
/// profile beats every rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PrefixRules {
    rules: BTreeMap<String, Profile>,
}

impl Default for PrefixRules {
    fn default() -> Self {
        let rules = UNREACHABLE_PREFIXES
            .iter()
            .map(|p| (p.to_string(), Profile::Sanctioned))
            .collect();
        PrefixRules { rules }
    }
}

impl PrefixRules {
    pub fn set(&mut self, prefix: String, profile: Profile) {
        self.rules.insert(prefix, profile);
    }

    pub fn remove(&mut self, prefix: &str) -> bool {
        self.rules.remove(prefix).is_some()
    }

    pub fn lookup(&self, wa_id: &str) -> Option<Profile> {
        self.rules
            .iter()
            .filter(|(prefix, _)| wa_id.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, profile)| *profile)
    }

    pub fn list(&self) -> Vec<serde_json::Value> {
        self.rules
            .iter()
            .map(|(prefix, profile)| serde_json::json!({"prefix": prefix, "profile": profile}))
            .collect()
    }
}

impl World {
    /// The profile `wa_id` (normalized) behaves by: set on the consumer, else a prefix rule,
    /// else normal.
    pub fn profile_of(&self, wa_id: &str) -> Profile {
        match self.consumers.get(wa_id) {
            Some(c) if c.profile_set => c.profile,
            _ => self.prefix_rules.lookup(wa_id).unwrap_or_default(),
        }
    }
}

impl Network {
    /// The phone's side of a message the network accepted (the window and the directory have
    /// been checked). Decided at acceptance, so the seeded RNG is drawn in send order.
    pub(crate) fn phone_outcome(&self, world: &mut World, recipient: &str) -> Outcome {
        match world.profile_of(recipient) {
            Profile::Normal | Profile::NoTemplateButtons => Outcome::Deliver {
                read: world.rng.gen_bool(self.rules().read_probability),
            },
            Profile::NoReadReceipts => Outcome::Deliver { read: false },
            Profile::Offline | Profile::BlockedBusiness | Profile::Sanctioned => Outcome::StaySent,
            Profile::OldApp => Outcome::Fail(receiver_incapable()),
            Profile::Experiment => Outcome::Fail(experiment_group()),
            Profile::MultiDevice => Outcome::Disagree(receiver_incapable()),
            Profile::NotOnWhatsapp => Outcome::Fail(user_not_valid()),
        }
    }
}

/// Plays the phone's side of an accepted message: after the delivery latency it fails, is
/// delivered (and recorded on the phone), then possibly read; or nothing happens at all.
pub async fn play(network: Arc<Network>, delivery: Delivery) {
    let rules = network.rules();
    tokio::time::sleep(rules.delivery_latency).await;
    match &delivery.outcome {
        Outcome::Fail(error) => {
            network.push_receipt(&delivery, ReceiptStatus::Failed, Some(error.clone()));
        }
        Outcome::Deliver { .. } if crate::messaging::is_expired(&delivery.message) => {
            let expired = crate::messaging::message_expired();
            network.push_receipt(&delivery, ReceiptStatus::Failed, Some(expired));
        }
        Outcome::Deliver { read } => {
            network.push_receipt(&delivery, ReceiptStatus::Delivered, None);
            if *read {
                tokio::time::sleep(rules.read_latency).await;
                network.push_receipt(&delivery, ReceiptStatus::Read, None);
            }
        }
        Outcome::StaySent => {}
        Outcome::Disagree(error) => {
            network.push_receipt(&delivery, ReceiptStatus::Delivered, None);
            network.push_receipt(&delivery, ReceiptStatus::Failed, Some(error.clone()));
        }
    }
}

/// 1026: the recipient's app cannot receive this message (too old a version).
pub fn receiver_incapable() -> NetError {
    NetError::new(1026, "Receiver Incapable").with_details(
        "The recipient's WhatsApp version cannot receive this message; they need to update the app.",
    )
}

/// 2013: the recipient's app cannot display the buttons of a template.
pub fn template_buttons_unsupported() -> NetError {
    NetError::new(2013, "Buttons are unsupported by the receiver")
        .with_details("The recipient's WhatsApp cannot display the buttons of this template.")
}

impl Network {
    /// The coreapp's `GetCapabilities` request: what the consumer's app can display.
    pub fn capabilities(&self, wa_id: &str) -> Result<wa_netproto::Response, NetError> {
        let wa_id = crate::phone::wa_id(wa_id)
            .ok_or_else(|| crate::errors::invalid_parameter("wa_id is not a valid number"))?;
        let template_buttons = self.world().profile_of(&wa_id).shows_template_buttons();
        Ok(wa_netproto::Response::Capabilities {
            wa_id,
            template_buttons,
        })
    }
}

/// 472: the recipient is part of a Meta experiment group.
pub fn experiment_group() -> NetError {
    NetError::new(472, "User's number is part of an experiment")
        .with_details("Message failed to send because the user is part of an experiment.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanctioned_regions_and_turkey_are_unreachable_by_default() {
        let rules = PrefixRules::default();
        for wa_id in [
            "5351234567",
            "989121234567",
            "85012345678",
            "963912345678",
            "905321234567",
        ] {
            assert_eq!(rules.lookup(wa_id), Some(Profile::Sanctioned), "{wa_id}");
        }
        assert_eq!(rules.lookup("16315551234"), None);
    }

    #[test]
    fn the_longest_prefix_wins() {
        let mut rules = PrefixRules::default();
        rules.set("44".into(), Profile::Offline);
        rules.set("4477".into(), Profile::OldApp);
        assert_eq!(rules.lookup("447700900123"), Some(Profile::OldApp));
        assert_eq!(rules.lookup("442071234567"), Some(Profile::Offline));
        assert!(rules.remove("4477"));
        assert_eq!(rules.lookup("447700900123"), Some(Profile::Offline));
    }
}
