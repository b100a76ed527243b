//! How long the network and the phones take (the `latency` option): `fixed` waits
//! `delivery_latency_ms` and `read_latency_ms` as configured; `realistic` plays the figures seen
//! in the field, drawn from the seeded RNG when the message is accepted; `instant` does not wait.
//! Number-prefix rules give a range of recipients their own `delivered` delay (a cross-border
//! route, a slow carrier) under `fixed` and `realistic`.

use crate::config::Rules;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// `realistic`: the network answers a send (`sent`) 2–5 s after it arrives.
pub(crate) const ACCEPT_MS: (u64, u64) = (2_000, 5_000);
/// `realistic`: `delivered` comes 3–7 s after acceptance within a country...
const DELIVERED_MS: (u64, u64) = (3_000, 7_000);
/// ...and up to 15 s when the recipient's country code differs from the business number's.
const CROSS_BORDER_MS: (u64, u64) = (3_000, 15_000);

/// A delay drawn uniformly between two bounds, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelayRange {
    pub min_ms: u64,
    pub max_ms: u64,
}

impl DelayRange {
    pub(crate) fn of((min_ms, max_ms): (u64, u64)) -> Self {
        DelayRange { min_ms, max_ms }
    }

    pub(crate) fn draw(self, rng: &mut impl Rng) -> Duration {
        let (low, high) = (self.min_ms.min(self.max_ms), self.min_ms.max(self.max_ms));
        Duration::from_millis(rng.gen_range(low..=high))
    }
}

/// `delivered` delays by recipient number prefix; the longest matching prefix wins.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LatencyRules {
    rules: BTreeMap<String, DelayRange>,
}

impl LatencyRules {
    pub fn set(&mut self, prefix: String, range: DelayRange) {
        self.rules.insert(prefix, range);
    }

    pub fn remove(&mut self, prefix: &str) -> bool {
        self.rules.remove(prefix).is_some()
    }

    pub(crate) fn lookup(&self, wa_id: &str) -> Option<DelayRange> {
        self.rules
            .iter()
            .filter(|(prefix, _)| wa_id.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, range)| *range)
    }

    pub fn list(&self) -> Vec<serde_json::Value> {
        self.rules
            .iter()
            .map(|(prefix, r)| {
                serde_json::json!({"prefix": prefix, "min_ms": r.min_ms, "max_ms": r.max_ms})
            })
            .collect()
    }
}

/// When each step of one message happens, decided at acceptance.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    /// Arrival → the network's answer (`sent`); zero for a held message released later.
    pub answer: Duration,
    /// The answer → `delivered` (or the phone's failure).
    pub delivered: Duration,
    /// `delivered` → `read`.
    pub read: Duration,
}

pub(crate) fn realistic_range(business: &str, recipient: &str) -> DelayRange {
    let cross_border = country_code(business) != country_code(recipient);
    DelayRange::of(if cross_border {
        CROSS_BORDER_MS
    } else {
        DELIVERED_MS
    })
}

/// Reading is the person's time, not the network's: the configured delay.
pub(crate) fn realistic_read(rules: &Rules) -> Duration {
    rules.read_latency
}

fn country_code(wa_id: &str) -> Option<u16> {
    phonenumber::parse(None, format!("+{wa_id}"))
        .ok()
        .map(|n| n.code().value())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn cross_border_routes_are_slower() {
        assert_eq!(
            realistic_range("16315550000", "16505550100"),
            DelayRange::of(DELIVERED_MS)
        );
        assert_eq!(
            realistic_range("16315550000", "447400900123"),
            DelayRange::of(CROSS_BORDER_MS)
        );
    }

    #[test]
    fn draws_stay_in_range_and_the_longest_prefix_wins() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..100 {
            let d = DelayRange::of((3, 7)).draw(&mut rng).as_millis();
            assert!((3..=7).contains(&d), "{d}");
        }
        let mut rules = LatencyRules::default();
        rules.set("44".into(), DelayRange::of((1, 1)));
        rules.set("4474".into(), DelayRange::of((2, 2)));
        assert_eq!(rules.lookup("447400900123"), Some(DelayRange::of((2, 2))));
        assert_eq!(rules.lookup("442079460958"), Some(DelayRange::of((1, 1))));
        assert_eq!(rules.lookup("16315550000"), None);
        assert!(rules.remove("4474"));
    }
}
