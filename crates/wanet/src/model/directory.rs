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
    /// The business that sent it, so a reply can quote it (`context.from`). Records kept
    /// before this field existed have none.
    #[serde(default)]
    pub business: Option<String>,
    /// `delivered`, then `read` once the phone reads it: the ticks the business sees. In
    /// `undelivered`: `sent` (it stays so) or `failed`; and `failed` for a phone of several
    /// devices that disagreed after one showed it.
    #[serde(default = "delivered")]
    pub status: String,
    /// Why it failed (`code`, `title`, `details`), as the business's `failed` status says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
}

fn delivered() -> String {
    "delivered".to_string()
}

/// A message the consumer sent to a business, as the network passed it on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sent {
    pub id: String,
    /// The business it went to.
    pub to: String,
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
    /// What the consumer wrote, oldest first, as many as `received` keeps at most.
    sent: Vec<Sent>,
    /// The business's messages that never reached the phone (failed, or staying `sent`), so a
    /// chat view can show them with their ticks; as many as `received` keeps at most.
    undelivered: Vec<Received>,
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
    sent: Vec<Sent>,
    #[serde(default)]
    undelivered: Vec<Received>,
    #[serde(default)]
    held: Vec<Held>,
    #[serde(default)]
    expired_held: u64,
}

/// One line of the control API's list of consumers.
#[derive(Debug, Serialize)]
pub struct ConsumerSummary {
    pub wa_id: String,
    pub name: String,
    pub profile: Profile,
    pub received_count: usize,
    pub sent_count: usize,
    /// Epoch seconds of the newest message either way; 0 when there is none.
    pub last_timestamp: i64,
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
    /// The consumer's own messages to businesses, oldest first.
    pub sent: Vec<Sent>,
    /// The business's messages that failed or stay `sent`, oldest first.
    pub undelivered: Vec<Received>,
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
            sent: Vec::new(),
            undelivered: Vec::new(),
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

    /// The phone read message `id`: its ticks turn to `read`.
    pub fn mark_read(&mut self, id: &str) {
        if let Some(message) = self.received.iter_mut().find(|m| m.id == id) {
            message.status = "read".to_string();
        }
    }

    /// Records a business's message that did not reach the phone; a phone that showed it and
    /// then failed (several devices that disagree) keeps it with the failure instead.
    pub fn record_undelivered(&mut self, message: Received, max: usize) {
        if let Some(shown) = self.received.iter_mut().find(|m| m.id == message.id) {
            shown.status = message.status;
            shown.error = message.error;
            return;
        }
        self.undelivered.push(message);
        let excess = self.undelivered.len().saturating_sub(max);
        self.undelivered.drain(..excess);
    }

    /// Records a message the consumer sent; the list keeps the newest `max`, like `received`.
    pub fn record_sent(&mut self, message: Sent, max: usize) {
        self.sent.push(message);
        let excess = self.sent.len().saturating_sub(max);
        self.sent.drain(..excess);
    }

    /// Forgets messages either way older than `oldest` (epoch seconds); true when any went.
    pub fn expire_received(&mut self, oldest: i64) -> bool {
        let old = self
            .received
            .iter()
            .take_while(|m| m.timestamp < oldest)
            .count();
        self.forget_oldest(old);
        let sent = self
            .sent
            .iter()
            .take_while(|m| m.timestamp < oldest)
            .count();
        self.sent.drain(..sent);
        let undelivered = self
            .undelivered
            .iter()
            .take_while(|m| m.timestamp < oldest)
            .count();
        self.undelivered.drain(..undelivered);
        old > 0 || sent > 0 || undelivered > 0
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
            sent: self.sent.clone(),
            undelivered: self.undelivered.clone(),
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
            sent: record.sent,
            undelivered: record.undelivered,
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
            sent: self.sent.clone(),
            undelivered: self.undelivered.clone(),
            held: self.held.iter().map(|h| h.id.clone()).collect(),
            expired_held: self.expired_held,
        }
    }

    pub fn summary(&self) -> ConsumerSummary {
        let received = self.received.iter().map(|m| m.timestamp).max();
        let sent = self.sent.iter().map(|m| m.timestamp).max();
        ConsumerSummary {
            wa_id: self.wa_id.clone(),
            name: self.name.clone(),
            profile: self.profile,
            received_count: self.received.len(),
            sent_count: self.sent.len(),
            last_timestamp: received.max(sent).unwrap_or(0),
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
            business: None,
            status: delivered(),
            error: None,
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

    #[test]
    fn a_read_message_shows_read_and_the_summary_counts_both_ways() {
        let mut c = Consumer::implicit("16315551234");
        c.receive(text("a"), 10);
        assert_eq!(c.view().received[0].status, "delivered");
        c.mark_read("a");
        c.mark_read("unknown");
        assert_eq!(c.view().received[0].status, "read");
        for n in 0..3 {
            let sent = Sent {
                id: format!("in{n}"),
                to: "15550001111".into(),
                kind: "text".into(),
                message: serde_json::json!({"type": "text"}),
                timestamp: 5 + n,
            };
            c.record_sent(sent, 2);
        }
        let summary = c.summary();
        assert_eq!((summary.received_count, summary.sent_count), (1, 2));
        assert_eq!(summary.last_timestamp, 7);
        assert_eq!(c.view().sent[0].id, "in1");
        assert!(c.expire_received(7));
        assert_eq!(c.view().sent.len(), 1);
    }

    #[test]
    fn undelivered_messages_are_kept_apart_unless_the_phone_showed_them() {
        let mut c = Consumer::implicit("16315551234");
        c.receive(text("shown"), 10);
        let failed = |id: &str| Received {
            status: "failed".into(),
            error: Some(serde_json::json!({"code": 1026})),
            ..text(id)
        };
        c.record_undelivered(failed("shown"), 10);
        c.record_undelivered(failed("never"), 10);
        let view = c.view();
        assert_eq!(view.received[0].status, "failed");
        assert_eq!(view.received_count, 1);
        assert_eq!(view.undelivered.len(), 1);
        assert_eq!(view.undelivered[0].id, "never");
        assert!(c.expire_received(2));
        assert!(c.view().undelivered.is_empty());
    }

    #[test]
    fn records_without_the_new_fields_still_load() {
        let old = serde_json::json!({"id": "a", "type": "text", "message": {}, "timestamp": 1});
        let received: Received = serde_json::from_value(old).unwrap();
        assert_eq!(
            (received.status.as_str(), received.business),
            ("delivered", None)
        );
    }
}
