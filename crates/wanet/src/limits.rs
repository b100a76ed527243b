//! Per-number throughput limits and messaging tiers (design.md §5, onprem-messaging §8.2, §9.2).
//!
//! A send the limits refuse is answered at once with the error and a `retry after N ms` hint in
//! its details, so the client can keep the message and try again after the cooldown:
//! - 429 `Rate limit hit`: too many messages from this number in a short time. The realistic
//!   preset allows 80 per second; the strict one 5 per minute (30 once the number is upgraded),
//!   media counting 1.8, and each violation starts a cooldown that escalates light → moderate →
//!   severe while violations keep coming.
//! - 471 `Spam rate limit hit`: the number's tier (unique users reached by business-initiated
//!   messages in a rolling 24 h) is used up; users already reached stay reachable.

use crate::clock;
use crate::config::{RateLimitPreset, Rules};
use crate::network::Network;
use crate::phone;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};
use wa_netproto::NetError;

/// Tier of a new number under the realistic and strict presets.
pub const DEFAULT_TIER: usize = 1_000;
/// How long a tier counts a reached user.
const TIER_WINDOW: Duration = Duration::from_secs(24 * 3600);
const REALISTIC_PER_SECOND: f64 = 80.0;
const STRICT_WINDOW: Duration = Duration::from_secs(60);
const STRICT_NEW_PER_WINDOW: f64 = 5.0;
const STRICT_UPGRADED_PER_WINDOW: f64 = 30.0;
const MEDIA_WEIGHT: f64 = 1.8;
/// Cooldowns of the strict preset's light, moderate and severe throttling.
const COOLDOWNS: [Duration; 3] = [
    Duration::from_secs(60),
    Duration::from_secs(300),
    Duration::from_secs(1_800),
];
const LEVEL_NAMES: [&str; 3] = ["light", "moderate", "severe"];
/// A violation this long after the previous one's cooldown ended starts again at light.
const ESCALATION_MEMORY: Duration = Duration::from_secs(600);
const MEDIA_TYPES: &[&str] = &["image", "audio", "video", "document", "sticker"];

/// The limits of every business number.
#[derive(Default)]
pub struct Limits {
    numbers: HashMap<String, NumberLimits>,
}

/// One business number's limit state.
pub struct NumberLimits {
    /// Unique users per rolling 24 h; `None` is unlimited.
    tier: Option<usize>,
    /// Strict preset: 30/min instead of 5/min.
    upgraded: bool,
    /// Weights of the recent sends, oldest first.
    recent: VecDeque<(Instant, f64)>,
    cooldown_until: Option<Instant>,
    /// 0 = never throttled, then 1..=3 for light, moderate, severe.
    level: usize,
    /// When users were first reached in the current tier window.
    reached: HashMap<String, Instant>,
    pub throttled: u64,
    pub tier_refusals: u64,
}

/// What the control API shows and accepts.
#[derive(Debug, Serialize)]
pub struct LimitsView {
    pub preset: RateLimitPreset,
    pub tier: Option<usize>,
    pub upgraded: bool,
    pub users_reached: usize,
    pub throttling: Option<&'static str>,
    pub cooldown_remaining_ms: u64,
    pub throttled: u64,
    pub tier_refusals: u64,
}

/// A send to check: who it goes to and whether it counts towards the tier.
pub struct SendCheck<'a> {
    pub recipient: &'a str,
    pub business_initiated: bool,
    pub message_type: &'a str,
}

impl NumberLimits {
    fn new(preset: RateLimitPreset) -> Self {
        NumberLimits {
            tier: (preset != RateLimitPreset::Off).then_some(DEFAULT_TIER),
            upgraded: false,
            recent: VecDeque::new(),
            cooldown_until: None,
            level: 0,
            reached: HashMap::new(),
            throttled: 0,
            tier_refusals: 0,
        }
    }

    /// Admits the send or says why not; an admitted send is counted.
    fn admit(&mut self, rules: &Rules, send: &SendCheck<'_>, now: Instant) -> Result<(), NetError> {
        self.check_tier(rules, send, now)?;
        self.check_throughput(rules, send, now)?;
        if send.business_initiated {
            self.reached
                .entry(send.recipient.to_string())
                .or_insert(now);
        }
        Ok(())
    }

    fn check_tier(
        &mut self,
        rules: &Rules,
        send: &SendCheck<'_>,
        now: Instant,
    ) -> Result<(), NetError> {
        let window = rules.scaled(TIER_WINDOW);
        self.reached
            .retain(|_, first| now.duration_since(*first) < window);
        let Some(tier) = self.tier else { return Ok(()) };
        if !send.business_initiated
            || self.reached.contains_key(send.recipient)
            || self.reached.len() < tier
        {
            return Ok(());
        }
        self.tier_refusals += 1;
        let oldest = self.reached.values().min().copied().unwrap_or(now);
        let retry = window.saturating_sub(now.duration_since(oldest));
        Err(
            NetError::new(471, "Spam rate limit hit")
                .with_details(format!(
                    "The messaging limit of {tier} unique users in 24 hours is reached; retry after {} ms.",
                    retry.as_millis()
                ))
                .with_retry_after(retry),
        )
    }

    fn check_throughput(
        &mut self,
        rules: &Rules,
        send: &SendCheck<'_>,
        now: Instant,
    ) -> Result<(), NetError> {
        let (window, capacity, weight) = match rules.rate_limits {
            RateLimitPreset::Off => return Ok(()),
            RateLimitPreset::Realistic => (
                rules.scaled(Duration::from_secs(1)),
                REALISTIC_PER_SECOND,
                1.0,
            ),
            RateLimitPreset::Strict => {
                let capacity = if self.upgraded {
                    STRICT_UPGRADED_PER_WINDOW
                } else {
                    STRICT_NEW_PER_WINDOW
                };
                let weight = if MEDIA_TYPES.contains(&send.message_type) {
                    MEDIA_WEIGHT
                } else {
                    1.0
                };
                (rules.scaled(STRICT_WINDOW), capacity, weight)
            }
        };
        if let Some(until) = self.cooldown_until.filter(|until| *until > now) {
            self.throttled += 1;
            return Err(rate_limit_hit(until - now, self.level));
        }
        while self
            .recent
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) >= window)
        {
            self.recent.pop_front();
        }
        let used: f64 = self.recent.iter().map(|(_, w)| w).sum();
        if used + weight <= capacity + f64::EPSILON {
            self.recent.push_back((now, weight));
            return Ok(());
        }
        self.throttled += 1;
        let retry = match rules.rate_limits {
            RateLimitPreset::Strict => self.escalate(rules, now),
            _ => self.recent.front().map_or(window, |(at, _)| {
                window.saturating_sub(now.duration_since(*at))
            }),
        };
        Err(rate_limit_hit(retry, self.level))
    }

    /// Starts the next cooldown of the strict preset and returns its length.
    fn escalate(&mut self, rules: &Rules, now: Instant) -> Duration {
        let recent_violation = self
            .cooldown_until
            .is_some_and(|ended| now.duration_since(ended) < rules.scaled(ESCALATION_MEMORY));
        self.level = if recent_violation {
            (self.level + 1).min(COOLDOWNS.len())
        } else {
            1
        };
        let cooldown = rules.scaled(COOLDOWNS[self.level - 1]);
        self.cooldown_until = Some(now + cooldown);
        // The window starts afresh after the cooldown.
        self.recent.clear();
        cooldown
    }

    fn view(&self, preset: RateLimitPreset, now: Instant) -> LimitsView {
        let cooldown = self
            .cooldown_until
            .map_or(Duration::ZERO, |u| u.saturating_duration_since(now));
        LimitsView {
            preset,
            tier: self.tier,
            upgraded: self.upgraded,
            users_reached: self.reached.len(),
            throttling: (!cooldown.is_zero()).then(|| level_name(self.level)),
            cooldown_remaining_ms: u64::try_from(cooldown.as_millis()).unwrap_or(u64::MAX),
            throttled: self.throttled,
            tier_refusals: self.tier_refusals,
        }
    }
}

fn level_name(level: usize) -> &'static str {
    LEVEL_NAMES
        .get(level.saturating_sub(1))
        .copied()
        .unwrap_or("light")
}

/// 429 with the time after which a send may succeed, as a field (`retry_after_ms`) and in words.
fn rate_limit_hit(retry: Duration, level: usize) -> NetError {
    let retry = retry.max(Duration::from_millis(1));
    NetError::new(429, "Rate limit hit")
        .with_details(format!(
            "Too many messages sent from this phone number in a short period ({} throttling); retry after {} ms.",
            level_name(level),
            retry.as_millis()
        ))
        .with_retry_after(retry)
}

/// What survives a restart of one number's limits: the recent-send window is dropped (it
/// is seconds long), the rest kept, moments as epoch seconds.
#[derive(Debug, Serialize, Deserialize)]
pub struct LimitsRecord {
    tier: Option<usize>,
    upgraded: bool,
    cooldown_until: Option<i64>,
    level: usize,
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

impl Limits {
    /// Every number's limits as stored records.
    pub fn records(&self) -> Vec<(String, LimitsRecord)> {
        self.numbers
            .iter()
            .map(|(number, n)| {
                let record = LimitsRecord {
                    tier: n.tier,
                    upgraded: n.upgraded,
                    cooldown_until: n.cooldown_until.map(epoch_secs),
                    level: n.level,
                    reached: n
                        .reached
                        .iter()
                        .map(|(user, at)| (user.clone(), epoch_secs(*at)))
                        .collect(),
                    throttled: n.throttled,
                    tier_refusals: n.tier_refusals,
                };
                (number.clone(), record)
            })
            .collect()
    }

    pub fn restore(&mut self, number: &str, record: LimitsRecord) {
        let limits = NumberLimits {
            tier: record.tier,
            upgraded: record.upgraded,
            recent: VecDeque::new(),
            cooldown_until: record.cooldown_until.and_then(instant_of),
            level: record.level,
            reached: record
                .reached
                .into_iter()
                .filter_map(|(user, at)| Some((user, instant_of(at)?)))
                .collect(),
            throttled: record.throttled,
            tier_refusals: record.tier_refusals,
        };
        self.numbers.insert(number.to_string(), limits);
    }

    fn number(&mut self, business: &str, preset: RateLimitPreset) -> &mut NumberLimits {
        self.numbers
            .entry(business.to_string())
            .or_insert_with(|| NumberLimits::new(preset))
    }
}

impl Network {
    /// Whether business `business` may send message `id` now. Duplicates of an accepted id
    /// always pass (they are answered from the dedupe table and cost nothing).
    pub fn admit_send(
        &self,
        business: &str,
        id: &str,
        to: &str,
        message: &serde_json::Value,
    ) -> Result<(), NetError> {
        let mut world = self.world();
        let Some(b) = world.businesses.get(business) else {
            return Ok(());
        };
        if b.sent.contains(id) {
            return Ok(());
        }
        let recipient = phone::wa_id(to).unwrap_or_else(|| to.to_string());
        let window_open = world
            .windows
            .get(&(business.to_string(), recipient.clone()))
            .is_some_and(|opened| opened.elapsed() < self.rules().window);
        let message_type = message
            .get("type")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("text");
        let send = SendCheck {
            recipient: &recipient,
            // Free-form messages outside the window fail with 470 and reach nobody.
            business_initiated: !window_open && matches!(message_type, "template" | "hsm"),
            message_type,
        };
        let rules = self.rules();
        world
            .limits
            .number(business, rules.rate_limits)
            .admit(&rules, &send, Instant::now())
    }

    /// Sets a number's tier (`None`: unlimited) and, for the strict preset, whether it is
    /// upgraded; fields left out keep their value.
    pub fn set_limits(
        &self,
        business: &str,
        tier: Option<Option<usize>>,
        upgraded: Option<bool>,
    ) -> LimitsView {
        let preset = self.rules().rate_limits;
        let mut world = self.world();
        let number = world.limits.number(business, preset);
        if let Some(tier) = tier {
            number.tier = tier;
        }
        if let Some(upgraded) = upgraded {
            number.upgraded = upgraded;
        }
        number.view(preset, Instant::now())
    }

    pub fn limits_view(&self, business: &str) -> LimitsView {
        let preset = self.rules().rate_limits;
        self.world()
            .limits
            .number(business, preset)
            .view(preset, Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WanetConfig;

    fn rules(preset: RateLimitPreset) -> Rules {
        Rules::from_config(&WanetConfig {
            rate_limits: preset,
            ..WanetConfig::default()
        })
    }

    fn text_to(recipient: &str) -> SendCheck<'_> {
        SendCheck {
            recipient,
            business_initiated: false,
            message_type: "text",
        }
    }

    #[test]
    fn realistic_allows_80_per_second() {
        let rules = rules(RateLimitPreset::Realistic);
        let mut n = NumberLimits::new(rules.rate_limits);
        let now = Instant::now();
        for _ in 0..80 {
            n.admit(&rules, &text_to("1"), now).unwrap();
        }
        let err = n.admit(&rules, &text_to("1"), now).unwrap_err();
        assert_eq!(err.code, 429);
        assert!(err.details.unwrap().contains("retry after 1000 ms"));
        n.admit(&rules, &text_to("1"), now + Duration::from_secs(1))
            .unwrap();
    }

    #[test]
    fn strict_escalates_and_weighs_media() {
        let rules = rules(RateLimitPreset::Strict);
        let mut n = NumberLimits::new(rules.rate_limits);
        let t0 = Instant::now();
        let image = SendCheck {
            recipient: "1",
            business_initiated: false,
            message_type: "image",
        };
        for _ in 0..2 {
            n.admit(&rules, &image, t0).unwrap();
        }
        n.admit(&rules, &text_to("1"), t0).unwrap();
        // 3.6 + 1 + 1.8 > 5: the second image of the minute over the budget.
        assert!(n
            .admit(&rules, &image, t0)
            .unwrap_err()
            .details
            .unwrap()
            .contains("light"));
        assert_eq!(
            n.admit(&rules, &text_to("1"), t0 + Duration::from_secs(30))
                .unwrap_err()
                .code,
            429
        );
        let t1 = t0 + Duration::from_secs(60);
        for _ in 0..5 {
            n.admit(&rules, &text_to("1"), t1).unwrap();
        }
        let err = n.admit(&rules, &text_to("1"), t1).unwrap_err();
        assert!(err.details.unwrap().contains("moderate throttling"));
        assert_eq!(n.level, 2);
        n.upgraded = true;
        let t2 = t1 + Duration::from_secs(300);
        for _ in 0..30 {
            n.admit(&rules, &text_to("1"), t2).unwrap();
        }
        n.admit(&rules, &text_to("1"), t2).unwrap_err();
        assert_eq!(n.level, 3);
    }

    #[test]
    fn the_tier_counts_unique_business_initiated_users() {
        let rules = rules(RateLimitPreset::Off);
        let mut n = NumberLimits::new(RateLimitPreset::Realistic);
        n.tier = Some(2);
        let now = Instant::now();
        let initiated = |r| SendCheck {
            recipient: r,
            business_initiated: true,
            message_type: "template",
        };
        n.admit(&rules, &initiated("a"), now).unwrap();
        n.admit(&rules, &initiated("b"), now).unwrap();
        n.admit(&rules, &initiated("a"), now).unwrap();
        n.admit(&rules, &text_to("c"), now).unwrap();
        assert_eq!(n.admit(&rules, &initiated("c"), now).unwrap_err().code, 471);
        n.admit(&rules, &initiated("c"), now + TIER_WINDOW).unwrap();
    }
}
