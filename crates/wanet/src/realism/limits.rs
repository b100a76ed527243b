//! Per-number throughput limits and messaging tiers (design.md §5, onprem-messaging §8.2, §9.2).
//!
//! A send the limits refuse is answered at once with the error and a `retry after N ms` hint in
//! its details, so the client can keep the message and try again after the cooldown:
//! - 429 `Rate limit hit`: too many messages from this number in a short time. The realistic
//!   preset allows 80 per second; the strict one 5 per minute (30 once the number is upgraded),
//!   media counting 1.8, and each violation throttles the number or its whole business account
//!   (throttle.rs), escalating while violations keep coming.
//! - strict preset only: 131049, the user's marketing limit (marketing.rs).
//! - 471 `Spam rate limit hit`: the number's tier (unique users reached by business-initiated
//!   messages in a rolling 24 h) is used up; users already reached stay reachable.

use crate::config::{RateLimitPreset, Rules};
use crate::realism::marketing::MarketingCaps;
use crate::realism::throttle::{Active, Ended, Level, Scope, Throttles};
use rand::Rng;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
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
const MEDIA_TYPES: &[&str] = &["image", "audio", "video", "document", "sticker"];
/// Stored-record keys of the account throttles and the users' marketing counts; a number's
/// own record is keyed by its digits.
const ACCOUNT_KEY: &str = "account:";
const MARKETING_KEY: &str = "marketing:";

mod record;

/// The limits of every business number, their accounts' throttles and the users' marketing
/// counts.
#[derive(Default)]
pub struct Limits {
    numbers: HashMap<String, NumberLimits>,
    pub(crate) throttles: Throttles,
    marketing: MarketingCaps,
}

/// One business number's limit state.
pub struct NumberLimits {
    /// Unique users per rolling 24 h; `None` is unlimited.
    pub(crate) tier: Option<usize>,
    /// Strict preset: 30/min instead of 5/min.
    pub(crate) upgraded: bool,
    /// The business account the number belongs to; `None`: an account of its own.
    pub(crate) account: Option<String>,
    /// Weights of the recent sends, oldest first.
    recent: VecDeque<(Instant, f64)>,
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
    pub account: String,
    pub users_reached: usize,
    pub throttling: Option<&'static str>,
    pub throttling_scope: Option<Scope>,
    pub cooldown_remaining_ms: u64,
    pub throttled: u64,
    pub tier_refusals: u64,
}

/// What `POST /control/businesses/{wa_id}/limits` changes; `None` keeps the value.
#[derive(Default)]
pub struct LimitsChange {
    /// `Some(None)`: unlimited.
    pub tier: Option<Option<usize>>,
    pub upgraded: Option<bool>,
    /// `Some(None)`: back to an account of its own.
    pub account: Option<Option<String>>,
    /// Ends the account's throttle and forgets its escalation.
    pub lift_throttling: bool,
}

/// A send to check: who it goes to and what kind of send it is.
pub struct SendCheck<'a> {
    pub recipient: &'a str,
    /// A template outside the customer-service window: counts towards the tier.
    pub business_initiated: bool,
    /// A marketing template outside the window: counts towards the user's marketing limit.
    pub marketing: bool,
    pub message_type: &'a str,
}

impl NumberLimits {
    fn new(preset: RateLimitPreset) -> Self {
        NumberLimits {
            tier: (preset != RateLimitPreset::Off).then_some(DEFAULT_TIER),
            upgraded: false,
            account: None,
            recent: VecDeque::new(),
            reached: HashMap::new(),
            throttled: 0,
            tier_refusals: 0,
        }
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

    /// Takes `weight` from a budget of `capacity` per `window`, or says when room frees up.
    fn take(
        &mut self,
        window: Duration,
        capacity: f64,
        weight: f64,
        now: Instant,
    ) -> Result<(), Duration> {
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
        Err(self.recent.front().map_or(window, |(at, _)| {
            window.saturating_sub(now.duration_since(*at))
        }))
    }

    /// The strict preset's budget for one send: 5 or 30 a minute, media weighing 1.8.
    fn strict_budget(&self, send: &SendCheck<'_>) -> (f64, f64) {
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
        (capacity, weight)
    }
}

/// 429 with the time after which a send may succeed, as a field (`retry_after_ms`) and in words.
fn rate_limit_hit(retry: Duration, level: Option<Level>) -> NetError {
    let retry = retry.max(Duration::from_millis(1));
    let throttling = level.map_or(String::new(), |l| {
        let scope = match l.scope() {
            Scope::Number => "this number",
            Scope::Account => "every number of the account",
        };
        format!(" ({} throttling of {scope})", l.name())
    });
    NetError::new(429, "Rate limit hit")
        .with_details(format!(
            "Too many messages sent from this phone number in a short period{throttling}; retry after {} ms.",
            retry.as_millis()
        ))
        .with_retry_after(retry)
}

impl Limits {
    pub(crate) fn account_of(&self, number: &str) -> String {
        self.numbers
            .get(number)
            .and_then(|n| n.account.clone())
            .unwrap_or_else(|| number.to_string())
    }

    /// The numbers a throttle stopped: the one that went over for a light one, every number of
    /// the account otherwise.
    pub fn numbers_stopped(&self, throttle: &Ended) -> Vec<String> {
        if throttle.level.scope() == Scope::Number {
            return vec![throttle.number.clone()];
        }
        let mut numbers: Vec<String> = self
            .numbers
            .keys()
            .filter(|n| self.account_of(n) == throttle.account)
            .cloned()
            .collect();
        if !numbers.contains(&throttle.number) {
            numbers.push(throttle.number.clone());
        }
        numbers
    }

    pub(crate) fn number(&mut self, business: &str, preset: RateLimitPreset) -> &mut NumberLimits {
        self.numbers
            .entry(business.to_string())
            .or_insert_with(|| NumberLimits::new(preset))
    }

    /// Admits the send or says why not; an admitted send is counted.
    pub fn admit(
        &mut self,
        business: &str,
        rules: &Rules,
        send: &SendCheck<'_>,
        now: Instant,
        rng: &mut impl Rng,
    ) -> Result<(), NetError> {
        let account = self.account_of(business);
        let number = self
            .numbers
            .entry(business.to_string())
            .or_insert_with(|| NumberLimits::new(rules.rate_limits));
        number.check_tier(rules, send, now)?;
        match rules.rate_limits {
            RateLimitPreset::Off => {}
            RateLimitPreset::Realistic => {
                let window = rules.scaled(Duration::from_secs(1));
                if let Err(retry) = number.take(window, REALISTIC_PER_SECOND, 1.0, now) {
                    number.throttled += 1;
                    return Err(rate_limit_hit(retry, None));
                }
            }
            RateLimitPreset::Strict => {
                if let Some(active) = self.throttles.active(&account, business, now) {
                    number.throttled += 1;
                    return Err(rate_limit_hit(active.remaining, Some(active.level)));
                }
                let (capacity, weight) = number.strict_budget(send);
                let window = rules.scaled(STRICT_WINDOW);
                if number.take(window, capacity, weight, now).is_err() {
                    number.throttled += 1;
                    // The budget starts afresh after the throttle.
                    number.recent.clear();
                    let started = self.throttles.violate(&account, business, rules, now, rng);
                    return Err(rate_limit_hit(started.remaining, Some(started.level)));
                }
                if send.marketing {
                    self.marketing.admit(send.recipient, rules, now)?;
                }
            }
        }
        if send.business_initiated {
            number
                .reached
                .entry(send.recipient.to_string())
                .or_insert(now);
        }
        Ok(())
    }

    pub(crate) fn view(
        &mut self,
        business: &str,
        preset: RateLimitPreset,
        now: Instant,
    ) -> LimitsView {
        let account = self.account_of(business);
        let active: Option<Active> = self.throttles.active(&account, business, now);
        let n = self.number(business, preset);
        let remaining = active.map_or(Duration::ZERO, |a| a.remaining);
        LimitsView {
            preset,
            tier: n.tier,
            upgraded: n.upgraded,
            account,
            users_reached: n.reached.len(),
            throttling: active.map(|a| a.level.name()),
            throttling_scope: active.map(|a| a.level.scope()),
            cooldown_remaining_ms: u64::try_from(remaining.as_millis()).unwrap_or(u64::MAX),
            throttled: n.throttled,
            tier_refusals: n.tier_refusals,
        }
    }

    /// Forgets what no rule looks at any more (called with the other retention rules).
    pub fn sweep(&mut self, rules: &Rules, now: Instant) {
        self.throttles.sweep(rules, now);
        self.marketing.sweep(rules, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WanetConfig;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn rules(preset: RateLimitPreset) -> Rules {
        Rules::from_config(&WanetConfig {
            rate_limits: preset,
            ..WanetConfig::default()
        })
    }

    fn send<'a>(recipient: &'a str, message_type: &'a str) -> SendCheck<'a> {
        SendCheck {
            recipient,
            business_initiated: false,
            marketing: false,
            message_type,
        }
    }

    /// One business number's limits, its account and a seeded RNG.
    struct Bench {
        limits: Limits,
        rules: Rules,
        rng: StdRng,
    }

    impl Bench {
        fn new(preset: RateLimitPreset) -> Self {
            Bench {
                limits: Limits::default(),
                rules: rules(preset),
                rng: StdRng::seed_from_u64(1),
            }
        }

        fn admit(
            &mut self,
            business: &str,
            send: &SendCheck<'_>,
            at: Instant,
        ) -> Result<(), NetError> {
            self.limits
                .admit(business, &self.rules, send, at, &mut self.rng)
        }
    }

    #[test]
    fn realistic_allows_80_per_second() {
        let mut b = Bench::new(RateLimitPreset::Realistic);
        let now = Instant::now();
        for _ in 0..80 {
            b.admit("1", &send("9", "text"), now).unwrap();
        }
        let err = b.admit("1", &send("9", "text"), now).unwrap_err();
        assert_eq!(err.code, 429);
        assert!(err.details.unwrap().contains("retry after 1000 ms"));
        b.admit("1", &send("9", "text"), now + Duration::from_secs(1))
            .unwrap();
    }

    #[test]
    fn strict_weighs_media_and_escalates_over_the_account() {
        let mut b = Bench::new(RateLimitPreset::Strict);
        for number in ["1", "2"] {
            b.limits.number(number, RateLimitPreset::Strict).account = Some("acme".into());
        }
        let t0 = Instant::now();
        b.admit("1", &send("9", "image"), t0).unwrap();
        b.admit("1", &send("9", "image"), t0).unwrap();
        b.admit("1", &send("9", "text"), t0).unwrap();
        // 3.6 + 1 + 1.8 > 5: the third image of the minute is over the budget.
        let light = b.admit("1", &send("9", "image"), t0).unwrap_err();
        assert!(light
            .details
            .unwrap()
            .contains("light throttling of this number"));
        assert_eq!(light.retry_after_ms, Some(300_000));
        b.admit("2", &send("9", "text"), t0).unwrap();
        let t1 = t0 + Duration::from_secs(300);
        for _ in 0..5 {
            b.admit("1", &send("9", "text"), t1).unwrap();
        }
        let moderate = b.admit("1", &send("9", "text"), t1).unwrap_err();
        assert_eq!(moderate.retry_after_ms, Some(3_600_000));
        let other = b.admit("2", &send("9", "text"), t1).unwrap_err();
        assert!(other
            .details
            .unwrap()
            .contains("moderate throttling of every number of the account"));
        let t2 = t1 + Duration::from_secs(3_600);
        b.limits.number("2", RateLimitPreset::Strict).upgraded = true;
        for _ in 0..30 {
            b.admit("2", &send("9", "text"), t2).unwrap();
        }
        let severe = b.admit("2", &send("9", "text"), t2).unwrap_err();
        assert!(severe.details.unwrap().contains("severe"));
        let view = b.limits.view("1", RateLimitPreset::Strict, t2);
        assert_eq!(view.throttling, Some("severe"));
        assert_eq!(view.throttling_scope, Some(Scope::Account));
        assert!((86_400_000..=259_200_000).contains(&view.cooldown_remaining_ms));
    }

    #[test]
    fn a_throttle_stopped_its_number_or_every_number_of_the_account() {
        let mut b = Bench::new(RateLimitPreset::Strict);
        for number in ["1", "2"] {
            b.limits.number(number, RateLimitPreset::Strict).account = Some("acme".into());
        }
        b.limits.number("3", RateLimitPreset::Strict);
        let ended = |level| Ended {
            account: "acme".into(),
            level,
            number: "2".into(),
        };
        assert_eq!(b.limits.numbers_stopped(&ended(Level::Light)), ["2"]);
        let mut all = b.limits.numbers_stopped(&ended(Level::Severe));
        all.sort();
        assert_eq!(all, ["1", "2"]);
    }

    #[test]
    fn strict_caps_marketing_templates_per_user() {
        let mut b = Bench::new(RateLimitPreset::Strict);
        let marketing = |recipient| SendCheck {
            recipient,
            business_initiated: true,
            marketing: true,
            message_type: "template",
        };
        let now = Instant::now();
        b.admit("1", &marketing("9"), now).unwrap();
        b.admit("2", &marketing("9"), now).unwrap();
        let refused = b.admit("1", &marketing("9"), now).unwrap_err();
        assert_eq!(refused.code, crate::realism::marketing::CODE);
        b.admit("1", &marketing("8"), now).unwrap();
        // Other presets do not cap marketing.
        let mut realistic = Bench::new(RateLimitPreset::Realistic);
        for _ in 0..3 {
            realistic.admit("1", &marketing("9"), now).unwrap();
        }
    }

    #[test]
    fn the_tier_counts_unique_business_initiated_users() {
        let mut b = Bench::new(RateLimitPreset::Off);
        b.limits.number("1", RateLimitPreset::Realistic).tier = Some(2);
        let now = Instant::now();
        let initiated = |r| SendCheck {
            recipient: r,
            business_initiated: true,
            marketing: false,
            message_type: "template",
        };
        b.admit("1", &initiated("a"), now).unwrap();
        b.admit("1", &initiated("b"), now).unwrap();
        b.admit("1", &initiated("a"), now).unwrap();
        b.admit("1", &send("c", "text"), now).unwrap();
        assert_eq!(b.admit("1", &initiated("c"), now).unwrap_err().code, 471);
        b.admit("1", &initiated("c"), now + TIER_WINDOW).unwrap();
    }

    #[test]
    fn limits_survive_a_restart() {
        let mut b = Bench::new(RateLimitPreset::Strict);
        b.limits.number("1", RateLimitPreset::Strict).account = Some("acme".into());
        let now = Instant::now();
        for _ in 0..6 {
            let _ = b.admit("1", &send("9", "text"), now);
        }
        let marketing = SendCheck {
            recipient: "9",
            business_initiated: true,
            marketing: true,
            message_type: "template",
        };
        let later = now + Duration::from_secs(600);
        b.admit("1", &marketing, later).unwrap();
        let mut restored = Limits::default();
        for (key, value) in b.limits.records() {
            restored.restore(&key, &value.unwrap()).unwrap();
        }
        let view = restored.view("1", RateLimitPreset::Strict, Instant::now());
        assert_eq!(view.account, "acme");
        assert_eq!(view.throttling, Some("light"));
        assert_eq!(restored.marketing.count("9"), 1);
        // A record written before accounts existed still reads.
        let old = r#"{"tier":1000,"upgraded":true,"cooldown_until":null,"level":2,"reached":{},"throttled":3,"tier_refusals":0}"#;
        restored.restore("2", old).unwrap();
        assert_eq!(
            restored.view("2", RateLimitPreset::Strict, now).account,
            "2"
        );
    }
}
