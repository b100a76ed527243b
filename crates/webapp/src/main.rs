use clap::Parser;

/// The REST webapp: HTTPS API, authentication and users; forwards work to the coreapp.
#[derive(Parser)]
#[command(version, about, after_help = wa_common::cli::env_help())]
struct Cli {
    #[command(flatten)]
    common: wa_common::cli::CommonArgs,
}

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let settings = Cli::parse().common.load_or_exit();
    wa_common::telemetry::init(&settings.log);
    match webapp::start(settings).await {
        Ok(running) => match running.server.await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!("webapp stopped: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        Err(e) => {
            tracing::error!("webapp failed to start: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
