use clap::Parser;
use std::path::PathBuf;
use wanet::{WanetConfig, WanetOptions};

/// The simulated WhatsApp network.
#[derive(Parser)]
#[command(version, about, after_help = wa_common::telemetry::LOG_ENV_HELP)]
struct Cli {
    /// Address of the protocol listener (TLS) the coreapp connects to.
    #[arg(long, env = "WANET_LISTEN", default_value = "0.0.0.0:5222")]
    listen: String,
    /// Address of the control API (tests and demos play the consumer side through it).
    #[arg(long, env = "WANET_CONTROL_LISTEN", default_value = "127.0.0.1:5280")]
    control_listen: String,
    /// Keep the network's state in `wanet.sqlite` under this folder.
    #[arg(long, env = "WANET_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Keep the network's state in this database (mysql://, postgres:// or sqlite://) instead.
    #[arg(long, env = "WANET_DATABASE_URL")]
    database_url: Option<String>,
    #[command(flatten)]
    options: WanetOptions,
}

impl From<Cli> for WanetConfig {
    fn from(cli: Cli) -> Self {
        let mut config = WanetConfig {
            listen: cli.listen,
            control_listen: cli.control_listen,
            data_dir: cli.data_dir,
            database_url: cli.database_url,
            ..WanetConfig::default()
        };
        cli.options.apply(&mut config);
        config
    }
}

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match wa_common::telemetry::log_settings_from_env() {
        Ok(log) => wa_common::telemetry::init(&log),
        Err(e) => {
            eprintln!("configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    }
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
