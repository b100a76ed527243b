//! How a wanet instance is set up: where it listens, where it keeps its state and how the
//! simulated phones behave.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
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
    /// Keep the state in `wanet.sqlite` under this folder (created when missing).
    pub data_dir: Option<PathBuf>,
    /// Keep the state in this database instead (`mysql://`, `postgres://` or `sqlite://`); wins
    /// over `data_dir`. Neither: the state lives in memory only and a restart forgets it.
    pub database_url: Option<String>,
    /// Length of the customer-service window opened by a consumer's message.
    pub window_secs: u64,
    /// How long the network and the phones take (latency.rs).
    pub latency: LatencyPreset,
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
    /// How long a phone's list of received messages keeps a message.
    pub received_retention_secs: u64,
    /// Most received messages a phone's list keeps (the oldest go first).
    pub received_max_per_consumer: usize,
    /// How long media files (uploads of businesses and consumers) are kept.
    pub media_retention_secs: u64,
    /// How long an accepted message id is remembered to drop re-sends of it.
    pub dedupe_retention_secs: u64,
    /// A scenario file (TOML or JSON) applied once the network is up.
    pub scenario: Option<PathBuf>,
}

/// How long the network and the phones take (latency.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencyPreset {
    /// `delivery_latency_ms` and `read_latency_ms` as configured; the network answers at once.
    #[default]
    Fixed,
    /// The field's figures: the network answers a send in 2–5 s, `delivered` 3–7 s later (up to
    /// 15 s across borders), `read` after `read_latency_ms`.
    Realistic,
    /// Nothing waits: for tests.
    Instant,
}

/// The per-number throughput rules (design.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
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
        let runtime = RuntimeConfig::default();
        WanetConfig {
            listen: format!("0.0.0.0:{}", wa_netproto::DEFAULT_PORT),
            control_listen: "127.0.0.1:5280".to_string(),
            data_dir: None,
            database_url: None,
            window_secs: runtime.window_secs,
            latency: runtime.latency,
            delivery_latency_ms: runtime.delivery_latency_ms,
            read_latency_ms: runtime.read_latency_ms,
            read_probability: runtime.read_probability,
            seed: None,
            rate_limits: runtime.rate_limits,
            time_scale: runtime.time_scale,
            received_retention_secs: runtime.received_retention_secs,
            received_max_per_consumer: runtime.received_max_per_consumer,
            media_retention_secs: runtime.media_retention_secs,
            dedupe_retention_secs: runtime.dedupe_retention_secs,
            scenario: None,
        }
    }
}

impl WanetConfig {
    /// Where the state is kept: the database URL, else `wanet.sqlite` in the data folder.
    pub fn state_url(&self) -> Option<String> {
        if let Some(url) = self.database_url.as_ref().filter(|u| !u.trim().is_empty()) {
            return Some(url.clone());
        }
        self.data_dir
            .as_ref()
            .map(|dir| format!("sqlite://{}", dir.join("wanet.sqlite").display()))
    }

    /// The options that can also change at run time (`GET/PATCH /control/config`).
    pub fn runtime(&self) -> RuntimeConfig {
        RuntimeConfig {
            window_secs: self.window_secs,
            latency: self.latency,
            delivery_latency_ms: self.delivery_latency_ms,
            read_latency_ms: self.read_latency_ms,
            read_probability: self.read_probability,
            rate_limits: self.rate_limits,
            time_scale: self.time_scale,
            received_retention_secs: self.received_retention_secs,
            received_max_per_consumer: self.received_max_per_consumer,
            media_retention_secs: self.media_retention_secs,
            dedupe_retention_secs: self.dedupe_retention_secs,
        }
    }
}

/// The options of a running network, as `GET /control/config` shows them; `PATCH` takes any
/// subset of the same fields.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    pub window_secs: u64,
    pub latency: LatencyPreset,
    pub delivery_latency_ms: u64,
    pub read_latency_ms: u64,
    pub read_probability: f64,
    pub rate_limits: RateLimitPreset,
    pub time_scale: f64,
    pub received_retention_secs: u64,
    pub received_max_per_consumer: usize,
    pub media_retention_secs: u64,
    pub dedupe_retention_secs: u64,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            window_secs: 86_400,
            latency: LatencyPreset::Fixed,
            delivery_latency_ms: 300,
            read_latency_ms: 1_000,
            read_probability: 0.92,
            rate_limits: RateLimitPreset::Realistic,
            time_scale: 1.0,
            received_retention_secs: 86_400,
            received_max_per_consumer: 100,
            // The real network keeps media about 30 days.
            media_retention_secs: 30 * 86_400,
            // Longer than the coreapp keeps an unsent message (a day), so every re-send of a
            // message after a crash is still recognized.
            dedupe_retention_secs: 2 * 86_400,
        }
    }
}

impl RuntimeConfig {
    /// The checks serde's types cannot make: a probability and a positive time scale.
    pub fn check(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.read_probability) {
            return Err("read_probability must be between 0 and 1".into());
        }
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err("time_scale must be a positive number".into());
        }
        Ok(())
    }
}

/// Any subset of the [`RuntimeConfig`] fields, by the same names: the body of
/// `PATCH /control/config` and a scenario's `[config]` section.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfigChange {
    pub window_secs: Option<u64>,
    pub latency: Option<LatencyPreset>,
    pub delivery_latency_ms: Option<u64>,
    pub read_latency_ms: Option<u64>,
    pub read_probability: Option<f64>,
    pub rate_limits: Option<RateLimitPreset>,
    pub time_scale: Option<f64>,
    pub received_retention_secs: Option<u64>,
    pub received_max_per_consumer: Option<usize>,
    pub media_retention_secs: Option<u64>,
    pub dedupe_retention_secs: Option<u64>,
}

impl RuntimeConfigChange {
    /// `base` with the fields this change names replaced, checked.
    pub fn apply_to(&self, base: RuntimeConfig) -> Result<RuntimeConfig, String> {
        let config = RuntimeConfig {
            window_secs: self.window_secs.unwrap_or(base.window_secs),
            latency: self.latency.unwrap_or(base.latency),
            delivery_latency_ms: self.delivery_latency_ms.unwrap_or(base.delivery_latency_ms),
            read_latency_ms: self.read_latency_ms.unwrap_or(base.read_latency_ms),
            read_probability: self.read_probability.unwrap_or(base.read_probability),
            rate_limits: self.rate_limits.unwrap_or(base.rate_limits),
            time_scale: self.time_scale.unwrap_or(base.time_scale),
            received_retention_secs: self
                .received_retention_secs
                .unwrap_or(base.received_retention_secs),
            received_max_per_consumer: self
                .received_max_per_consumer
                .unwrap_or(base.received_max_per_consumer),
            media_retention_secs: self
                .media_retention_secs
                .unwrap_or(base.media_retention_secs),
            dedupe_retention_secs: self
                .dedupe_retention_secs
                .unwrap_or(base.dedupe_retention_secs),
        };
        config.check()?;
        Ok(config)
    }
}

/// The messaging rules derived from a [`RuntimeConfig`], in the units the network works with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    pub window: Duration,
    pub latency: LatencyPreset,
    pub delivery_latency: Duration,
    pub read_latency: Duration,
    pub read_probability: f64,
    pub rate_limits: RateLimitPreset,
    pub time_scale: f64,
    pub received_retention: Duration,
    pub received_max: usize,
    pub media_retention: Duration,
    pub dedupe_retention: Duration,
    /// What they were made from, as the control API shows it.
    pub source: RuntimeConfig,
}

impl Rules {
    pub fn from_config(config: &WanetConfig) -> Self {
        Self::from_runtime(config.runtime())
    }

    pub fn from_runtime(mut source: RuntimeConfig) -> Self {
        // A NaN or out-of-range probability from a typo should not poison every decision.
        source.read_probability = if source.read_probability.is_nan() {
            0.0
        } else {
            source.read_probability.clamp(0.0, 1.0)
        };
        // Zero or negative would make every limit meaningless; keep a floor.
        if !(source.time_scale.is_finite() && source.time_scale > 0.0) {
            source.time_scale = 1.0;
        }
        Rules {
            window: Duration::from_secs(source.window_secs),
            latency: source.latency,
            delivery_latency: Duration::from_millis(source.delivery_latency_ms),
            read_latency: Duration::from_millis(source.read_latency_ms),
            read_probability: source.read_probability,
            rate_limits: source.rate_limits,
            time_scale: source.time_scale,
            received_retention: Duration::from_secs(source.received_retention_secs),
            received_max: source.received_max_per_consumer,
            media_retention: Duration::from_secs(source.media_retention_secs),
            dedupe_retention: Duration::from_secs(source.dedupe_retention_secs),
            source,
        }
    }

    /// `real` in this network's (possibly compressed) time.
    pub fn scaled(&self, real: Duration) -> Duration {
        real.mul_f64(self.time_scale)
    }
}
