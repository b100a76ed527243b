use clap::Parser;
use wanet::WanetConfig;

/// The simulated WhatsApp network.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Address of the protocol listener (TLS) the coreapp connects to.
    #[arg(long, env = "WANET_LISTEN", default_value = "0.0.0.0:5222")]
    listen: String,
    /// Address of the control API (tests and demos play the consumer side through it).
    #[arg(long, env = "WANET_CONTROL_LISTEN", default_value = "127.0.0.1:5280")]
    control_listen: String,
    /// Length of the customer-service window opened by a consumer's message, in seconds.
    #[arg(long, env = "WANET_WINDOW_SECS", default_value_t = 86_400)]
    window_secs: u64,
    /// Delay before a phone's `delivered` receipt, in milliseconds.
    #[arg(long, env = "WANET_DELIVERY_LATENCY_MS", default_value_t = 300)]
    delivery_latency_ms: u64,
    /// Delay between `delivered` and `read`, in milliseconds.
    #[arg(long, env = "WANET_READ_LATENCY_MS", default_value_t = 1_000)]
    read_latency_ms: u64,
    /// Chance that a delivered message is read (0.0 to 1.0).
    #[arg(long, env = "WANET_READ_PROBABILITY", default_value_t = 0.92)]
    read_probability: f64,
    /// Seed for the phones' random choices, for reproducible runs.
    #[arg(long, env = "WANET_SEED")]
    seed: Option<u64>,
    /// Per-number throughput rules: realistic (80/s), strict (5/min, escalating), or off.
    #[arg(
        long,
        env = "WANET_RATE_LIMITS",
        value_enum,
        default_value = "realistic"
    )]
    rate_limits: wanet::RateLimitPreset,
    /// Multiplies rate-limit periods, cooldowns and the tier window (0.01 = 100x faster).
    #[arg(long, env = "WANET_TIME_SCALE", default_value_t = 1.0)]
    time_scale: f64,
}

impl From<Cli> for WanetConfig {
    fn from(cli: Cli) -> Self {
        WanetConfig {
            listen: cli.listen,
            control_listen: cli.control_listen,
            window_secs: cli.window_secs,
            delivery_latency_ms: cli.delivery_latency_ms,
            read_latency_ms: cli.read_latency_ms,
            read_probability: cli.read_probability,
            seed: cli.seed,
            rate_limits: cli.rate_limits,
            time_scale: cli.time_scale,
        }
    }
}

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    wa_common::telemetry::init(&wa_common::config::LogSettings::default());
    let cli = Cli::parse();
    let result = match wanet::start(cli.into()).await {
        Ok(running) => {
            let handle = running.handle();
            tokio::spawn(async move {
                shutdown_signal().await;
                tracing::info!("shutting down");
                handle.stop().await;
            });
            running.wait().await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("wanet: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Ctrl-C, or SIGTERM from `docker stop`.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
