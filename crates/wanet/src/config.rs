//! How a wanet instance is set up: where it listens and how the simulated phones behave.

use std::time::Duration;

/// Everything a wanet instance needs to start. `Default` gives the production-like values the
/// binary uses when no flag or environment variable says otherwise.
#[derive(Debug, Clone)]
pub struct WanetConfig {
    /// Protocol listener (TLS, length-delimited frames) the coreapp connects to.
    pub listen: String,
    /// Control API (plain HTTP/JSON) for tests and demos; loopback by default because it can
    /// read registration codes and impersonate consumers.
    pub control_listen: String,
    /// Length of the customer-service window opened by a consumer's message.
    pub window_secs: u64,
    /// Time between the network accepting a message and the phone's `delivered` receipt.
    pub delivery_latency_ms: u64,
    /// Time between `delivered` and `read`.
    pub read_latency_ms: u64,
    /// Chance that a delivered message is also read (0.0 ..= 1.0).
    pub read_probability: f64,
    /// Seed for the simulated phones' random choices, for reproducible runs.
    pub seed: Option<u64>,
    /// Which per-number throughput limits the network enforces.
    pub rate_limits: RateLimitPreset,
    /// Multiplies every rate-limit period and cooldown (and the tier's 24 h), so tests can see a
    /// strict-preset cooldown pass in milliseconds. 1.0 is real time.
    pub time_scale: f64,
}

/// The per-number throughput rules (design.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitPreset {
    /// 80 messages/s per business number, tier 1K unique users per 24 h.
    #[default]
    Realistic,
    /// 5 messages/min for a new number, 30/min after its upgrade, escalating cooldowns, media
    /// counting 1.8 messages.
    Strict,
    /// No throughput limit and no tier.
    Off,
}

impl Default for WanetConfig {
    fn default() -> Self {
        WanetConfig {
            listen: format!("0.0.0.0:{}", wa_netproto::DEFAULT_PORT),
            control_listen: "127.0.0.1:5280".to_string(),
            window_secs: 86_400,
            delivery_latency_ms: 300,
            read_latency_ms: 1_000,
            read_probability: 0.92,
            seed: None,
            rate_limits: RateLimitPreset::Realistic,
            time_scale: 1.0,
        }
    }
}

/// The messaging rules derived from a [`WanetConfig`], in the units the network works with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    pub window: Duration,
    pub delivery_latency: Duration,
    pub read_latency: Duration,
    pub read_probability: f64,
    pub rate_limits: RateLimitPreset,
    pub time_scale: f64,
}

impl Rules {
    pub fn from_config(config: &WanetConfig) -> Self {
        Rules {
            window: Duration::from_secs(config.window_secs),
            delivery_latency: Duration::from_millis(config.delivery_latency_ms),
            read_latency: Duration::from_millis(config.read_latency_ms),
            // A NaN or out-of-range probability from a typo should not poison every decision.
            read_probability: if config.read_probability.is_nan() {
                0.0
            } else {
                config.read_probability.clamp(0.0, 1.0)
            },
            rate_limits: config.rate_limits,
            // Zero or negative would make every limit meaningless; keep a floor.
            time_scale: if config.time_scale.is_finite() && config.time_scale > 0.0 {
                config.time_scale
            } else {
                1.0
            },
        }
    }
}

impl Rules {
    /// `real` in this network's (possibly compressed) time.
    pub fn scaled(&self, real: Duration) -> Duration {
        real.mul_f64(self.time_scale)
    }
}
