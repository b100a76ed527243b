use clap::Parser;

/// The coreapp: network session, delivery, inbound processing, webhooks; serves the webapp.
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
    if settings.database.upgrade_only {
        return upgrade(&settings).await;
    }
    let running = match coreapp::start(settings).await {
        Ok(running) => running,
        Err(e) => {
            tracing::error!("coreapp failed to start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let stopped = running.server.await;
    running.supervisor.shutdown().await;
    coreapp::engine::cluster::leave(&running.state).await;
    match stopped {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("coreapp stopped: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The one-shot `dbupgrade` run: success once the schema is current.
async fn upgrade(settings: &wa_common::Settings) -> std::process::ExitCode {
    match coreapp::upgrade_database(settings).await {
        Ok(applied) => {
            tracing::info!("database upgrade done: {applied} migration(s) applied, schema current");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("database upgrade failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
