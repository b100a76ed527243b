//! The limits as stored records: a number's own record keyed by its digits, an account's last
//! throttle under `account:<id>`, a consumer's marketing moments under `marketing:<wa_id>`.

use super::{Limits, NumberLimits, ACCOUNT_KEY, MARKETING_KEY};
use crate::base::clock;
use crate::realism::throttle::ThrottleRecord;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

impl Limits {
    /// Every stored record of the limits: `(key, JSON)`.
    pub fn records(&self) -> Vec<(String, Option<String>)> {
        let mut records: Vec<(String, Option<String>)> = self
            .numbers
            .iter()
            .map(|(number, n)| (number.clone(), json(&LimitsRecord::of(n))))
            .collect();
        for (account, record) in self.throttles.records() {
            records.push((format!("{ACCOUNT_KEY}{account}"), json(&record)));
        }
        for (user, times) in self.marketing.records() {
            records.push((format!("{MARKETING_KEY}{user}"), json(&times)));
        }
        records
    }

    /// Reads back one stored record.
    pub fn restore(&mut self, key: &str, value: &str) -> Result<(), serde_json::Error> {
        if let Some(account) = key.strip_prefix(ACCOUNT_KEY) {
            let record: ThrottleRecord = serde_json::from_str(value)?;
            self.throttles.restore(account, record);
        } else if let Some(user) = key.strip_prefix(MARKETING_KEY) {
            self.marketing.restore(user, serde_json::from_str(value)?);
        } else {
            let record: LimitsRecord = serde_json::from_str(value)?;
            self.numbers.insert(key.to_string(), record.into_limits());
        }
        Ok(())
    }
}

fn json<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// What survives a restart of one number's limits: the recent-send window is dropped (it
/// is seconds long), the rest kept, moments as epoch seconds. (Records written before
/// throttling moved to the account carry a `cooldown_until` and `level`, now ignored.)
#[derive(Debug, Serialize, Deserialize)]
pub struct LimitsRecord {
    tier: Option<usize>,
    upgraded: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account: Option<String>,
    reached: BTreeMap<String, i64>,
    throttled: u64,
    tier_refusals: u64,
}

fn epoch_secs(at: Instant) -> i64 {
    clock::to_epoch_ms(at).div_euclid(1000)
}

fn instant_of(secs: i64) -> Option<Instant> {
    clock::from_epoch_ms(secs.saturating_mul(1000))
}

impl LimitsRecord {
    fn of(n: &NumberLimits) -> Self {
        LimitsRecord {
            tier: n.tier,
            upgraded: n.upgraded,
            account: n.account.clone(),
            reached: n
                .reached
                .iter()
                .map(|(user, at)| (user.clone(), epoch_secs(*at)))
                .collect(),
            throttled: n.throttled,
            tier_refusals: n.tier_refusals,
        }
    }

    fn into_limits(self) -> NumberLimits {
        NumberLimits {
            tier: self.tier,
            upgraded: self.upgraded,
            account: self.account,
            recent: VecDeque::new(),
            reached: self
                .reached
                .into_iter()
                .filter_map(|(user, at)| Some((user, instant_of(at)?)))
                .collect(),
            throttled: self.throttled,
            tier_refusals: self.tier_refusals,
        }
    }
}
