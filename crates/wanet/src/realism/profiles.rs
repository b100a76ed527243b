//! What each recipient profile's phone does with a business's message (design.md §5), and the
//! prefix rules that give whole number ranges a profile.

use crate::model::directory::Profile;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use wa_netproto::NetError;

/// Number ranges whose users exchange no message with businesses: sanctioned countries (Cuba,
/// Iran, North Korea, Syria), sanctioned regions inside a country code (Crimea and Sevastopol:
/// +7 978, +7 365, +7 869, +380 65, +380 692; Donetsk and Luhansk: +7 949, +7 959, +380 62,
/// +380 64) and Turkey (+90).
const UNREACHABLE_PREFIXES: &[&str] = &[
    "53", "98", "850", "963", "7978", "7365", "7869", "38065", "380692", "7949", "7959", "38062",
    "38064", "90",
];
/// Of those, where businesses may still register a number: Turkey's restriction is on
/// messaging, not a sanction.
const REGISTRATION_ALLOWED: &[&str] = &["90"];

/// What the network will do with an accepted message once the delivery latency has passed.
pub enum Outcome {
    Fail(NetError),
    Deliver {
        read: bool,
    },
    /// No receipt ever comes: the message stays `sent`.
    StaySent,
    /// The phone is off: the network keeps the message for when it comes back (held.rs).
    Hold,
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

    /// Whether a business number may not register here: a `sanctioned` rule covers it (Turkey
    /// excepted).
    pub fn refuses_registration(&self, wa_id: &str) -> bool {
        self.lookup(wa_id) == Some(Profile::Sanctioned)
            && !REGISTRATION_ALLOWED.iter().any(|p| wa_id.starts_with(p))
    }

    pub fn list(&self) -> Vec<serde_json::Value> {
        self.rules
            .iter()
            .map(|(prefix, profile)| serde_json::json!({"prefix": prefix, "profile": profile}))
            .collect()
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
        assert!(rules.refuses_registration("989121234567"));
        assert!(rules.refuses_registration("79781234567"));
        assert!(!rules.refuses_registration("905321234567"));
        assert!(!rules.refuses_registration("79161234567"));
    }

    #[test]
    fn the_longest_prefix_wins() {
        let mut rules = PrefixRules::default();
        rules.set("44".into(), Profile::Offline);
        rules.set("4474".into(), Profile::OldApp);
        assert_eq!(rules.lookup("447400900123"), Some(Profile::OldApp));
        assert_eq!(rules.lookup("442071234567"), Some(Profile::Offline));
        assert!(rules.remove("4474"));
        assert_eq!(rules.lookup("447400900123"), Some(Profile::Offline));
    }
}
