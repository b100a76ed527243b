//! The simulator's behaviour options as command-line flags and `WANET_*` variables, shared by
//! the `wanet` binary and `wa-dev` (which flattens them into its own flags), so every way of
//! running the simulator takes the same options under the same names.

use crate::config::{LatencyPreset, RateLimitPreset, RuntimeConfig, WanetConfig};

/// Flags (and environment variables) for everything [`RuntimeConfig`] holds, plus the seed.
#[derive(Debug, Clone, clap::Args)]
pub struct WanetOptions {
    /// Length of the customer-service window opened by a consumer's message, in seconds.
    #[arg(long, env = "WANET_WINDOW_SECS", default_value_t = RuntimeConfig::default().window_secs)]
    pub window_secs: u64,
    /// How long the network and the phones take: fixed (the two delays below), realistic (the
    /// field's figures), or instant.
    #[arg(long, env = "WANET_LATENCY", value_enum, default_value = "fixed")]
    pub latency: LatencyPreset,
    /// Delay before a phone's `delivered` receipt, in milliseconds (`fixed`).
    #[arg(long, env = "WANET_DELIVERY_LATENCY_MS", default_value_t = RuntimeConfig::default().delivery_latency_ms)]
    pub delivery_latency_ms: u64,
    /// Delay between `delivered` and `read`, in milliseconds.
    #[arg(long, env = "WANET_READ_LATENCY_MS", default_value_t = RuntimeConfig::default().read_latency_ms)]
    pub read_latency_ms: u64,
    /// Chance that a delivered message is read (0.0 to 1.0).
    #[arg(long, env = "WANET_READ_PROBABILITY", default_value_t = RuntimeConfig::default().read_probability)]
    pub read_probability: f64,
    /// Seed for the phones' random choices, for reproducible runs.
    #[arg(long, env = "WANET_SEED")]
    pub seed: Option<u64>,
    /// Per-number throughput rules: realistic (80/s), strict (5/min, escalating), or off.
    #[arg(
        long,
        env = "WANET_RATE_LIMITS",
        value_enum,
        default_value = "realistic"
    )]
    pub rate_limits: RateLimitPreset,
    /// Multiplies rate-limit periods, cooldowns, the tier window, the verification lock and the
    /// offline store's 30 days (0.01 = 100x faster).
    #[arg(long, env = "WANET_TIME_SCALE", default_value_t = RuntimeConfig::default().time_scale)]
    pub time_scale: f64,
    /// How long a phone's list of received messages keeps a message, in seconds.
    #[arg(long, env = "WANET_RECEIVED_RETENTION_SECS", default_value_t = RuntimeConfig::default().received_retention_secs)]
    pub received_retention_secs: u64,
    /// Most received messages a phone's list keeps.
    #[arg(long, env = "WANET_RECEIVED_MAX_PER_CONSUMER", default_value_t = RuntimeConfig::default().received_max_per_consumer)]
    pub received_max_per_consumer: usize,
    /// How long media files are kept, in seconds.
    #[arg(long, env = "WANET_MEDIA_RETENTION_SECS", default_value_t = RuntimeConfig::default().media_retention_secs)]
    pub media_retention_secs: u64,
    /// How long an accepted message id is remembered to drop re-sends, in seconds.
    #[arg(long, env = "WANET_DEDUPE_RETENTION_SECS", default_value_t = RuntimeConfig::default().dedupe_retention_secs)]
    pub dedupe_retention_secs: u64,
    /// A scenario file (TOML or JSON) to set the network up with and play (docs/wanet.md).
    #[arg(long, env = "WANET_SCENARIO")]
    pub scenario: Option<std::path::PathBuf>,
}

impl WanetOptions {
    /// Writes these options into `config`, leaving where it listens and stores untouched.
    pub fn apply(self, config: &mut WanetConfig) {
        config.window_secs = self.window_secs;
        config.latency = self.latency;
        config.delivery_latency_ms = self.delivery_latency_ms;
        config.read_latency_ms = self.read_latency_ms;
        config.read_probability = self.read_probability;
        config.seed = self.seed;
        config.rate_limits = self.rate_limits;
        config.time_scale = self.time_scale;
        config.received_retention_secs = self.received_retention_secs;
        config.received_max_per_consumer = self.received_max_per_consumer;
        config.media_retention_secs = self.media_retention_secs;
        config.dedupe_retention_secs = self.dedupe_retention_secs;
        config.scenario = self.scenario;
    }
}
