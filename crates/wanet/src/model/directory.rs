//! The consumers' side of the network: who is a WhatsApp user and what each phone received.

use crate::base::phone;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// How a consumer's phone behaves (design.md §5); `profiles.rs` plays each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Receives, answers with `delivered`, reads with the configured probability.
    #[default]
    Normal,
    /// Not a WhatsApp user: contacts say invalid, sends fail with 1013.
    NotOnWhatsapp,
    /// Delivered, but the user turned read receipts off: never `read`.
    NoReadReceipts,
    /// The phone is off: the network keeps its messages up to 30 days and delivers them when
    /// the phone comes back (another profile); after that they stay `sent` (held.rs).
    Offline,
    /// The user blocked the business: stays `sent`, the cause is never disclosed.
    BlockedBusiness,
    /// In a sanctioned region (see profiles.rs) or +90: never delivered (stays `sent`), and its
    /// messages never reach a business.
    Sanctioned,
    /// The app is too old for the message: failed with 1026.
    OldApp,
    /// Part of a Meta experiment group: failed with 472.
    Experiment,
    /// Several devices that disagree: one reports `delivered`, another `failed`.
    MultiDevice,
    /// The app cannot display template buttons: templates with buttons are refused with 2013
    /// (the coreapp asks first; the network fails any that still come); otherwise normal.
    NoTemplateButtons,
}

impl Profile {
    /// Whether the phone's app shows the buttons of a template.
    pub fn shows_template_buttons(self) -> bool {
        self != Profile::NoTemplateButtons
    }
}

/// A message a phone received from a business.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Received {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub message: serde_json::Value,
    pub timestamp: i64,
}

/// A business's message the network keeps while the phone is off (held.rs).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Held {
    pub business: String,
    pub id: String,
    pub message: serde_json::Value,
    /// The text of a template, as the phone will show it.
    pub rendered: Option<String>,
    /// When the network accepted it, epoch seconds.
    pub timestamp: i64,
    /// When the network found the phone off, epoch milliseconds: its 30 days count from here.
    pub held_at_ms: i64,
}

#[derive(Debug, Clone)]
pub struct Consumer {
    pub wa_id: String,
    pub name: String,
    pub profile: Profile,
    /// Whether `profile` was set explicitly; otherwise a prefix rule may decide.
    pub profile_set: bool,
    /// The consumer's current identity (security code); a reinstall or a new phone replaces it.
    pub identity: Identity,
    received: Vec<Received>,
    received_ids: HashSet<String>,
    read_receipts: Vec<String>,
    /// Messages waiting for the phone to come back, oldest first.
    pub held: Vec<Held>,
    /// How many held messages waited too long and were dropped.
    pub expired_held: u64,
}

/// A consumer's identity as the network announces it with each of their messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub hash: String,
    /// When this identity was created, epoch milliseconds.
    pub created_timestamp: i64,
}

impl Identity {
    /// A new random identity created now.
    pub fn new(hash: String) -> Self {
        Identity {
            hash,
            created_timestamp: crate::base::ids::now_epoch().saturating_mul(1000),
        }
    }
}

/// What is stored of a consumer.
#[derive(Debug, Serialize, Deserialize)]
pub struct ConsumerRecord {
    name: String,
    profile: Profile,
    profile_set: bool,
    identity: Identity,
    received: Vec<Received>,
    read_receipts: Vec<String>,
    #[serde(default)]
    held: Vec<Held>,
    #[serde(default)]
    expired_held: u64,
}

/// What the control API shows of a consumer.
#[derive(Debug, Serialize)]
pub struct ConsumerView {
    pub wa_id: String,
    pub name: String,
    pub profile: Profile,
    pub received_count: usize,
    pub received: Vec<Received>,
    pub read_receipts: Vec<String>,
    /// Ids of the messages the network keeps for the phone while it is off.
    pub held: Vec<String>,
    pub expired_held: u64,
}

impl Consumer {
    /// The consumer every well-formed number is until the control API says otherwise.
    pub fn implicit(wa_id: &str) -> Self {
        Consumer {
            wa_id: wa_id.to_string(),
            name: format!("WhatsApp User {}", phone::last_four(wa_id)),
            profile: Profile::Normal,
            profile_set: false,
            identity: Identity::new(crate::model::media::new_identity_hash()),
            received: Vec::new(),
            received_ids: HashSet::new(),
            read_receipts: Vec::new(),
            held: Vec::new(),
            expired_held: 0,
        }
    }

    /// Records a delivered message; an id the phone already has is not counted again. The
    /// list keeps the newest `max` messages.
    pub fn receive(&mut self, message: Received, max: usize) {
        if self.received_ids.insert(message.id.clone()) {
            self.received.push(message);
        }
        let excess = self.received.len().saturating_sub(max);
        self.forget_oldest(excess);
    }

    /// Forgets received messages older than `oldest` (epoch seconds); true when any went.
    pub fn expire_received(&mut self, oldest: i64) -> bool {
        let old = self
            .received
            .iter()
            .take_while(|m| m.timestamp < oldest)
            .count();
        self.forget_oldest(old);
        old > 0
    }

    /// Drops held messages the network found the phone off for before `oldest_ms`; how many.
    pub fn expire_held(&mut self, oldest_ms: i64) -> usize {
        let old = self
            .held
            .iter()
            .take_while(|h| h.held_at_ms < oldest_ms)
            .count();
        self.held.drain(..old);
        self.expired_held = self.expired_held.saturating_add(old as u64);
        old
    }

    fn forget_oldest(&mut self, count: usize) {
        for gone in self.received.drain(..count) {
            self.received_ids.remove(&gone.id);
        }
        // The business's reads are as unbounded as its messages; keep the same number.
        let excess = self
            .read_receipts
            .len()
            .saturating_sub(self.received.len().max(100));
        self.read_receipts.drain(..excess);
    }

    pub fn record(&self) -> ConsumerRecord {
        ConsumerRecord {
            name: self.name.clone(),
            profile: self.profile,
            profile_set: self.profile_set,
            identity: self.identity.clone(),
            received: self.received.clone(),
            read_receipts: self.read_receipts.clone(),
            held: self.held.clone(),
            expired_held: self.expired_held,
        }
    }

    pub fn from_record(wa_id: &str, record: ConsumerRecord) -> Self {
        Consumer {
            wa_id: wa_id.to_string(),
            name: record.name,
            profile: record.profile,
            profile_set: record.profile_set,
            identity: record.identity,
            received_ids: record.received.iter().map(|m| m.id.clone()).collect(),
            received: record.received,
            read_receipts: record.read_receipts,
            held: record.held,
            expired_held: record.expired_held,
        }
    }

    /// Records that the business read inbound message `id`.
    pub fn mark_read_by_business(&mut self, id: &str) {
        if !self.read_receipts.iter().any(|r| r == id) {
            self.read_receipts.push(id.to_string());
        }
    }

    pub fn view(&self) -> ConsumerView {
        ConsumerView {
            wa_id: self.wa_id.clone(),
            name: self.name.clone(),
            profile: self.profile,
            received_count: self.received.len(),
            received: self.received.clone(),
            read_receipts: self.read_receipts.clone(),
            held: self.held.iter().map(|h| h.id.clone()).collect(),
            expired_held: self.expired_held,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(id: &str) -> Received {
        Received {
            id: id.into(),
            kind: "text".into(),
            message: serde_json::json!({"type": "text"}),
            timestamp: 1,
        }
    }

    #[test]
    fn implicit_consumers_are_normal_users_with_a_default_name() {
        let c = Consumer::implicit("16315551234");
        assert_eq!(c.name, "WhatsApp User 1234");
        assert_eq!(c.view().received_count, 0);
    }

    #[test]
    fn a_message_id_is_counted_once() {
        let mut c = Consumer::implicit("16315551234");
        c.receive(text("a"), 10);
        c.receive(text("a"), 10);
        c.receive(text("b"), 10);
        assert_eq!(c.view().received_count, 2);
        c.receive(text("c"), 2);
        assert_eq!(c.view().received[0].id, "b");
        assert!(c.expire_received(2));
        assert_eq!(c.view().received_count, 0);
    }

    #[test]
    fn read_receipts_are_recorded_once() {
        let mut c = Consumer::implicit("16315551234");
        c.mark_read_by_business("ABGG1");
        c.mark_read_by_business("ABGG1");
        assert_eq!(c.view().read_receipts, vec!["ABGG1".to_string()]);
    }
}
