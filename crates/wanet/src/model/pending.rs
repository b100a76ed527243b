//! Scenario entries waiting for a business number to register: kept in the order they were
//! loaded, applied when the number they wait for (or, for those that name none, the first
//! number) registers. The entries themselves are the scenario's own (control/scenario.rs
//! writes and reads them); here they are data that survives a restart.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    entries: Vec<PendingEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingEntry {
    /// Which scenario and which of its entries: loading the same scenario again (a restart
    /// with the same `--scenario`) replaces its entries instead of adding them twice.
    pub key: String,
    /// The number it waits for; `None`: the first number to register.
    pub business: Option<String>,
    /// The entry, in the scenario's own form.
    pub entry: Value,
}

/// Most entries kept waiting: far more than any scenario needs, and a bound on what a
/// repeated load of scenarios that never apply can hold.
pub const MAX_PENDING: usize = 10_000;

impl Pending {
    /// Keeps `entry`, replacing one with the same key; `false` when full.
    pub fn keep(&mut self, entry: PendingEntry) -> bool {
        if let Some(same) = self.entries.iter_mut().find(|e| e.key == entry.key) {
            *same = entry;
            return true;
        }
        if self.entries.len() >= MAX_PENDING {
            return false;
        }
        self.entries.push(entry);
        true
    }

    /// Takes the entries for `business` (those naming it and those naming none), in order.
    pub fn take_for(&mut self, business: &str) -> Vec<PendingEntry> {
        let (taken, kept) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(|e| e.business.as_deref().is_none_or(|b| b == business));
        self.entries = kept;
        taken
    }

    pub fn entries(&self) -> &[PendingEntry] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, business: Option<&str>) -> PendingEntry {
        PendingEntry {
            key: key.into(),
            business: business.map(String::from),
            entry: Value::from(key),
        }
    }

    #[test]
    fn entries_wait_for_their_number_in_order_and_a_reload_replaces_them() {
        let mut pending = Pending::default();
        assert!(pending.keep(entry("a", None)));
        assert!(pending.keep(entry("b", Some("16315550000"))));
        assert!(pending.keep(entry("c", Some("447400900123"))));
        let mut again = entry("a", None);
        again.entry = Value::from("new");
        assert!(pending.keep(again));
        assert_eq!(pending.entries().len(), 3);
        let taken = pending.take_for("16315550000");
        let keys: Vec<&str> = taken.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(taken[0].entry, Value::from("new"));
        assert!(pending.take_for("16315550000").is_empty());
        assert_eq!(pending.take_for("447400900123").len(), 1);
        assert!(pending.is_empty());
    }
}
