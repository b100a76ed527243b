//! The verification lock: after three wrong registration codes in a row a number can neither
//! request nor submit a code for 8 hours (scaled by `--time-scale`), as WhatsApp locks a number
//! after repeated failed verifications.

use crate::base::clock;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Wrong codes in a row that lock the number.
pub const MAX_FAILURES: u32 = 3;
/// How long the lock lasts, in real time.
pub const LOCK: Duration = Duration::from_secs(8 * 3600);

#[derive(Default)]
pub struct VerifyLocks {
    by_phone: HashMap<String, Attempts>,
}

struct Attempts {
    failures: u32,
    locked_until: Option<Instant>,
}

/// What is stored of one number's attempts (the lock's end in epoch milliseconds).
#[derive(Serialize, Deserialize)]
pub struct AttemptsRecord {
    failures: u32,
    locked_until: Option<i64>,
}

impl VerifyLocks {
    /// How long `phone` stays locked, if it is.
    pub fn locked_for(&self, phone: &str, now: Instant) -> Option<Duration> {
        let until = self.by_phone.get(phone)?.locked_until?;
        Some(until.saturating_duration_since(now)).filter(|left| !left.is_zero())
    }

    /// Counts a wrong code; returns how long the number is now locked, when this locked it.
    pub fn failed(&mut self, phone: &str, now: Instant, lock: Duration) -> Option<Duration> {
        let attempts = self.by_phone.entry(phone.to_string()).or_insert(Attempts {
            failures: 0,
            locked_until: None,
        });
        if attempts.locked_until.is_some_and(|until| until <= now) {
            // An expired lock starts a fresh count.
            *attempts = Attempts {
                failures: 0,
                locked_until: None,
            };
        }
        attempts.failures += 1;
        if attempts.failures < MAX_FAILURES {
            return None;
        }
        attempts.locked_until = Some(now + lock);
        Some(lock)
    }

    /// A right code clears the count.
    pub fn succeeded(&mut self, phone: &str) {
        self.by_phone.remove(phone);
    }

    pub fn records(&self) -> Vec<(String, AttemptsRecord)> {
        self.by_phone
            .iter()
            .map(|(phone, a)| {
                let record = AttemptsRecord {
                    failures: a.failures,
                    // Whole seconds, so the compared record does not change between flushes.
                    locked_until: a
                        .locked_until
                        .map(|u| clock::to_epoch_ms(u).div_euclid(1000) * 1000),
                };
                (phone.clone(), record)
            })
            .collect()
    }

    pub fn restore(&mut self, phone: &str, record: AttemptsRecord) {
        let attempts = Attempts {
            failures: record.failures,
            locked_until: record.locked_until.and_then(clock::from_epoch_ms),
        };
        self.by_phone.insert(phone.to_string(), attempts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_wrong_codes_lock_until_the_lock_passes() {
        let mut locks = VerifyLocks::default();
        let now = Instant::now();
        let lock = Duration::from_secs(60);
        assert_eq!(locks.failed("1", now, lock), None);
        assert_eq!(locks.failed("1", now, lock), None);
        assert_eq!(locks.failed("1", now, lock), Some(lock));
        assert_eq!(locks.locked_for("1", now), Some(lock));
        assert_eq!(locks.locked_for("1", now + lock), None);
        // After the lock, the count starts again.
        assert_eq!(locks.failed("1", now + lock, lock), None);
        locks.succeeded("1");
        assert_eq!(locks.locked_for("1", now), None);
    }
}
