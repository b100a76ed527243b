//! The ids of the messages a business number had accepted, so a re-send after a coreapp crash
//! is answered as a duplicate instead of reaching the phone twice. Bounded: ids older than the
//! retention are forgotten (the coreapp gives up on a message long before), oldest first.

use std::collections::{HashMap, VecDeque};

#[derive(Default)]
pub struct Dedupe {
    /// Accepted id → epoch seconds of its acceptance.
    by_id: HashMap<String, i64>,
    /// The same ids in acceptance order, for expiry.
    order: VecDeque<(i64, String)>,
}

impl Dedupe {
    pub fn get(&self, id: &str) -> Option<i64> {
        self.by_id.get(id).copied()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    pub fn insert(&mut self, id: &str, at: i64) {
        if self.by_id.insert(id.to_string(), at).is_none() {
            self.order.push_back((at, id.to_string()));
        }
    }

    /// Forgets the ids accepted before `oldest` (epoch seconds); returns them.
    pub fn expire(&mut self, oldest: i64) -> Vec<String> {
        let mut gone = Vec::new();
        while self.order.front().is_some_and(|(at, _)| *at < oldest) {
            if let Some((_, id)) = self.order.pop_front() {
                self.by_id.remove(&id);
                gone.push(id);
            }
        }
        gone
    }

    /// Restores the stored ids, in acceptance order.
    pub fn restore(&mut self, mut ids: Vec<(String, i64)>) {
        ids.sort_by_key(|(_, at)| *at);
        for (id, at) in ids {
            self.insert(&id, at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_ids_expire_first() {
        let mut d = Dedupe::default();
        d.insert("a", 10);
        d.insert("b", 20);
        d.insert("a", 30);
        assert_eq!(d.expire(15), vec!["a".to_string()]);
        assert!(!d.contains("a"));
        assert_eq!(d.get("b"), Some(20));
        assert_eq!(d.order.len(), 1);
    }
}
