//! The strict preset's throttling: each time a number of a business account goes over its
//! per-minute budget the account is throttled, and a violation soon after the last throttle
//! ended escalates it:
//! - light: 5 minutes, only the number that went over;
//! - moderate: 1 hour, every number of the account;
//! - severe: 24 to 72 hours (drawn when it starts), every number of the account.
//!
//! Every length is multiplied by the time scale. A number that was never put in an account
//! is an account of its own.

use crate::base::clock;
use crate::config::Rules;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const LIGHT: Duration = Duration::from_secs(5 * 60);
const MODERATE: Duration = Duration::from_secs(3_600);
const SEVERE_MIN_SECS: u64 = 24 * 3_600;
const SEVERE_MAX_SECS: u64 = 72 * 3_600;
/// A violation within this long after the last throttle ended escalates; after a quiet day
/// the next one starts at light again.
const ESCALATION_MEMORY: Duration = Duration::from_secs(24 * 3_600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Light,
    Moderate,
    Severe,
}

/// Who a throttle stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Number,
    Account,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Light => "light",
            Level::Moderate => "moderate",
            Level::Severe => "severe",
        }
    }

    fn next(self) -> Level {
        match self {
            Level::Light => Level::Moderate,
            Level::Moderate | Level::Severe => Level::Severe,
        }
    }

    pub fn scope(self) -> Scope {
        match self {
            Level::Light => Scope::Number,
            Level::Moderate | Level::Severe => Scope::Account,
        }
    }

    /// Real-time length of a throttle at this level.
    fn length(self, rng: &mut impl Rng) -> Duration {
        match self {
            Level::Light => LIGHT,
            Level::Moderate => MODERATE,
            Level::Severe => Duration::from_secs(rng.gen_range(SEVERE_MIN_SECS..=SEVERE_MAX_SECS)),
        }
    }
}

/// The last throttle of one account.
#[derive(Debug, Clone)]
struct Throttle {
    level: Level,
    until: Instant,
    /// The number whose violation started it (all a light throttle stops).
    number: String,
    /// Whether its end was announced to the numbers it stopped (see [`Throttles::take_ended`]).
    announced: bool,
}

/// A throttle that stopped sends and is over: whom it stopped, so they can be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub account: String,
    pub level: Level,
    /// The number whose violation started it.
    pub number: String,
}

/// A throttle in force for a number: what is left of it and at which level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Active {
    pub remaining: Duration,
    pub level: Level,
}

/// The last throttle of every account that had one.
#[derive(Default)]
pub struct Throttles {
    accounts: HashMap<String, Throttle>,
}

/// What survives a restart of an account's last throttle (its end in epoch milliseconds, so a
/// scaled throttle of a few hundred milliseconds survives too).
#[derive(Debug, Serialize, Deserialize)]
pub struct ThrottleRecord {
    level: Level,
    until_ms: i64,
    number: String,
}

impl Throttles {
    /// The throttle that stops `number` of `account` now, if any.
    pub fn active(&self, account: &str, number: &str, now: Instant) -> Option<Active> {
        let throttle = self.accounts.get(account)?;
        let remaining = throttle.until.checked_duration_since(now)?;
        if remaining.is_zero()
            || (throttle.level.scope() == Scope::Number && throttle.number != number)
        {
            return None;
        }
        Some(Active {
            remaining,
            level: throttle.level,
        })
    }

    /// Records a violation by `number` and starts the throttle it earns.
    pub fn violate(
        &mut self,
        account: &str,
        number: &str,
        rules: &Rules,
        now: Instant,
        rng: &mut impl Rng,
    ) -> Active {
        let memory = rules.scaled(ESCALATION_MEMORY);
        let level = match self.accounts.get(account) {
            Some(last) if now < last.until + memory => last.level.next(),
            _ => Level::Light,
        };
        let remaining = rules
            .scaled(level.length(rng))
            .max(Duration::from_millis(1));
        let throttle = Throttle {
            level,
            until: now + remaining,
            number: number.to_string(),
            announced: false,
        };
        self.accounts.insert(account.to_string(), throttle);
        Active { remaining, level }
    }

    /// Ends the account's throttle and forgets its history (the control API's lift). Returns
    /// the throttle when it was still stopping sends.
    pub fn lift(&mut self, account: &str, now: Instant) -> Option<Ended> {
        let throttle = self.accounts.remove(account)?;
        (throttle.until > now).then(|| Ended {
            account: account.to_string(),
            level: throttle.level,
            number: throttle.number,
        })
    }

    /// The throttles whose length has run by `now` and whose end was not announced yet, now
    /// counted as announced.
    pub fn take_ended(&mut self, now: Instant) -> Vec<Ended> {
        self.accounts
            .iter_mut()
            .filter(|(_, t)| !t.announced && t.until <= now)
            .map(|(account, t)| {
                t.announced = true;
                Ended {
                    account: account.clone(),
                    level: t.level,
                    number: t.number.clone(),
                }
            })
            .collect()
    }

    /// When the next throttle whose end is still to be announced ends.
    pub fn next_end(&self) -> Option<Instant> {
        self.accounts
            .values()
            .filter(|t| !t.announced)
            .map(|t| t.until)
            .min()
    }

    pub fn records(&self) -> impl Iterator<Item = (&String, ThrottleRecord)> {
        self.accounts.iter().map(|(account, t)| {
            let record = ThrottleRecord {
                level: t.level,
                until_ms: clock::to_epoch_ms(t.until),
                number: t.number.clone(),
            };
            (account, record)
        })
    }

    pub fn restore(&mut self, account: &str, record: ThrottleRecord) {
        if let Some(until) = clock::from_epoch_ms(record.until_ms) {
            // One that ended while the network was down stopped nobody still connected.
            let throttle = Throttle {
                level: record.level,
                until,
                number: record.number,
                announced: until <= Instant::now(),
            };
            self.accounts.insert(account.to_string(), throttle);
        }
    }

    /// Forgets throttles whose memory has passed: they no longer escalate anything.
    pub fn sweep(&mut self, rules: &Rules, now: Instant) {
        let memory = rules.scaled(ESCALATION_MEMORY);
        self.accounts.retain(|_, t| now < t.until + memory);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WanetConfig;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn rules() -> Rules {
        Rules::from_config(&WanetConfig::default())
    }

    #[test]
    fn violations_escalate_from_one_number_to_the_whole_account() {
        let rules = rules();
        let mut rng = StdRng::seed_from_u64(7);
        let mut throttles = Throttles::default();
        let t0 = Instant::now();
        let light = throttles.violate("acme", "1", &rules, t0, &mut rng);
        assert_eq!((light.level, light.remaining), (Level::Light, LIGHT));
        assert!(throttles.active("acme", "1", t0).is_some());
        assert_eq!(
            throttles.active("acme", "2", t0),
            None,
            "light stops one number"
        );
        let t1 = t0 + LIGHT;
        assert_eq!(throttles.active("acme", "1", t1), None);
        // Another number of the account goes over: moderate, for every number.
        let moderate = throttles.violate("acme", "2", &rules, t1, &mut rng);
        assert_eq!(
            (moderate.level, moderate.remaining),
            (Level::Moderate, MODERATE)
        );
        assert_eq!(
            throttles.active("acme", "1", t1).map(|a| a.level),
            Some(Level::Moderate)
        );
        assert_eq!(throttles.active("other", "1", t1), None);
        let t2 = t1 + MODERATE + Duration::from_secs(60);
        let severe = throttles.violate("acme", "1", &rules, t2, &mut rng);
        assert_eq!(severe.level, Level::Severe);
        let secs = severe.remaining.as_secs();
        assert!(
            (SEVERE_MIN_SECS..=SEVERE_MAX_SECS).contains(&secs),
            "{secs}"
        );
        assert!(throttles.active("acme", "3", t2).is_some());
        // A day after it ended, a violation starts at light again.
        let later = t2 + severe.remaining + ESCALATION_MEMORY;
        let again = throttles.violate("acme", "1", &rules, later, &mut rng);
        assert_eq!(again.level, Level::Light);
    }

    #[test]
    fn lengths_follow_the_time_scale_and_survive_a_restart() {
        let rules = Rules::from_config(&WanetConfig {
            time_scale: 0.001,
            ..WanetConfig::default()
        });
        let mut rng = StdRng::seed_from_u64(7);
        let mut throttles = Throttles::default();
        let now = Instant::now();
        let light = throttles.violate("acme", "1", &rules, now, &mut rng);
        assert_eq!(light.remaining, Duration::from_millis(300));
        let mut restored = Throttles::default();
        for (account, record) in throttles.records() {
            let json = serde_json::to_string(&record).unwrap();
            restored.restore(account, serde_json::from_str(&json).unwrap());
        }
        let active = restored.active("acme", "1", Instant::now()).unwrap();
        assert_eq!(active.level, Level::Light);
        assert!(active.remaining <= Duration::from_millis(300));
        assert!(restored.lift("acme", Instant::now()).is_some());
        assert_eq!(restored.active("acme", "1", Instant::now()), None);
        assert_eq!(restored.lift("acme", Instant::now()), None);
    }

    #[test]
    fn each_end_is_announced_once() {
        let rules = rules();
        let mut rng = StdRng::seed_from_u64(7);
        let mut throttles = Throttles::default();
        let t0 = Instant::now();
        throttles.violate("acme", "1", &rules, t0, &mut rng);
        assert_eq!(throttles.next_end(), Some(t0 + LIGHT));
        assert!(throttles.take_ended(t0).is_empty());
        let ended = throttles.take_ended(t0 + LIGHT);
        assert_eq!(
            ended,
            vec![Ended {
                account: "acme".into(),
                level: Level::Light,
                number: "1".into()
            }]
        );
        assert!(throttles.take_ended(t0 + LIGHT).is_empty());
        assert_eq!(throttles.next_end(), None);
        // Ended throttles are not lifted: there is nothing left to stop.
        assert_eq!(throttles.lift("acme", t0 + LIGHT), None);
    }
}
