use clap::Parser;

/// The simulated WhatsApp network.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Address of the control API (tests and demos play the consumer side through it).
    #[arg(long, env = "WANET_CONTROL_LISTEN", default_value = "127.0.0.1:5280")]
    control_listen: String,
}

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    wa_common::telemetry::init(&wa_common::config::LogSettings::default());
    let cli = Cli::parse();
    let result = match wanet::start(&cli.control_listen) {
        Ok(running) => running.server.await,
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
