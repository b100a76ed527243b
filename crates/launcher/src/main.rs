//! `wa-dev`: webapp, coreapp and the network simulator in one process, each on an embedded
//! SQLite database under a data directory (the simulator's in `wanet.sqlite`). The zero-setup way to try the product (the README's first command).

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use wa_api::users::{ADMIN_USERNAME as ADMIN, DEFAULT_ADMIN_PASSWORD as DEFAULT_PASSWORD};

#[derive(Parser)]
#[command(version, about, after_help = wa_common::cli::env_help())]
struct Cli {
    #[command(flatten)]
    common: wa_common::cli::CommonArgs,

    /// Where the SQLite database (and later media) are kept.
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,

    /// HTTPS address of the API (the compose files publish 9090 too).
    #[arg(long, default_value = "127.0.0.1:9090")]
    listen: String,

    /// Control API of the bundled network simulator (play the customers' side through it).
    #[arg(long, default_value = "127.0.0.1:5280")]
    wanet_control_listen: String,

    /// Connect to this network instead of starting the bundled simulator.
    #[arg(long)]
    network_address: Option<String>,

    /// Keep the bundled simulator's state in this database (mysql://, postgres:// or
    /// sqlite://) instead of `wanet.sqlite` under the data folder.
    #[arg(long, env = "WANET_DATABASE_URL")]
    wanet_database_url: Option<String>,

    /// The bundled simulator's behaviour: the same flags and `WANET_*` variables as `wanet`.
    #[command(flatten)]
    wanet: wanet::WanetOptions,
}

/// The key file `wa-dev` keeps in its data folder when no secrets key is configured.
const SECRETS_KEY_FILE: &str = "secrets.key";

/// A new key file unless one exists, in the data folder (created first).
fn generate_key_file(path: &std::path::Path) -> Result<bool, String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    wa_common::config::secrets::create_key_file(path)
        .map_err(|e| format!("cannot write the secrets key {}: {e}", path.display()))
}

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut generated_key = Ok(false);
    let settings = cli.common.load_with_or_exit(|s| {
        s.data_dir = cli.data_dir.clone();
        s.media_dir = cli.data_dir.join("media");
        s.webapp.listen = cli.listen.clone();
        s.coreapp.listen = "127.0.0.1:0".into();
        if s.secrets.is_unset() {
            let key_file = cli.data_dir.join(SECRETS_KEY_FILE);
            generated_key = generate_key_file(&key_file);
            s.secrets.key_file = Some(key_file);
        }
    });
    wa_common::telemetry::init(&settings.log);
    match generated_key {
        Ok(true) => tracing::info!(
            "generated the secrets key in {}: keep a copy with every backup of the data folder",
            cli.data_dir.join(SECRETS_KEY_FILE).display()
        ),
        Ok(false) => {}
        // The settings were validated with the file, so it exists: someone else wrote it.
        Err(e) => tracing::warn!("{e}"),
    }
    match run(settings, &cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("wa-dev: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(mut settings: wa_common::Settings, cli: &Cli) -> Result<(), String> {
    // Listening before anything starts: each server also stops on Ctrl-C by itself, but one
    // that was still starting when the signal came never hears of it (the signal is delivered
    // only to the listeners registered by then), and wa-dev would run on.
    let stop_requested = stop_signal().map_err(|e| format!("cannot listen for signals: {e}"))?;
    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", settings.data_dir.display()))?;
    let simulator = start_simulator(&mut settings, cli).await?;
    let store = wa_common::storage::open(&settings)
        .await
        .map_err(|e| e.to_string())?;
    let core = coreapp::start_with_store(settings.clone(), store.clone())
        .await
        .map_err(|e| e.to_string())?;
    let core_addr = core.addresses.first().ok_or("coreapp bound no address")?;
    settings.webapp.coreapp_host = core_addr.ip().to_string();
    settings.webapp.coreapp_port = core_addr.port();
    let control_url = simulator
        .as_ref()
        .map(|w| format!("http://{}", w.control_addr));
    // The console shows the bundled simulator's webhook inbox.
    if settings.webapp.network_control_url.is_none() {
        settings.webapp.network_control_url = control_url.clone();
    }
    let web = webapp::start_with_store(settings.clone(), store.clone())
        .await
        .map_err(|e| e.to_string())?;
    let port = web.addresses.first().map_or(0, |a| a.port());
    print_banner(&store, port, control_url.as_deref()).await;
    let handles = [web.server.handle(), core.server.handle()];
    let servers = async { tokio::join!(web.server, core.server) };
    tokio::pin!(servers);
    let (web_result, core_result) = tokio::select! {
        results = &mut servers => results,
        () = stop_requested => {
            // The command is sent on the call; a server that heard the signal itself ignores
            // it, and does not answer it either, so the returned future is not awaited.
            for handle in &handles {
                drop(handle.stop(true));
            }
            servers.await
        }
    };
    core.supervisor.shutdown().await;
    // The servers stopped (Ctrl-C): the simulator writes its last changes before exiting.
    if let Some(simulator) = simulator {
        if let Err(e) = simulator.stop().await {
            tracing::warn!("wanet: {e}");
        }
    }
    web_result.and(core_result).map_err(|e| e.to_string())
}

/// Completes at the first SIGINT (Ctrl-C) or SIGTERM after this call.
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// The bundled network simulator, unless `--network-address` points at another network.
async fn start_simulator(
    settings: &mut wa_common::Settings,
    cli: &Cli,
) -> Result<Option<wanet::RunningWanet>, String> {
    if let Some(address) = &cli.network_address {
        settings.coreapp.network_address = address.clone();
        return Ok(None);
    }
    let mut config = wanet::WanetConfig {
        listen: "127.0.0.1:0".into(),
        control_listen: cli.wanet_control_listen.clone(),
        data_dir: Some(settings.data_dir.clone()),
        database_url: cli.wanet_database_url.clone(),
        ..wanet::WanetConfig::default()
    };
    cli.wanet.clone().apply(&mut config);
    let running = wanet::start(config)
        .await
        .map_err(|e| format!("wanet: {e}"))?;
    settings.coreapp.network_address = running.protocol_addr.to_string();
    Ok(Some(running))
}

/// Tells the person who just ran the command where to go and how to log in.
async fn print_banner(store: &wa_store::Store, port: u16, simulator: Option<&str>) {
    let first_login = matches!(
        store.find_user(ADMIN).await,
        Ok(Some(user)) if user.must_change_password
    );
    println!();
    println!("  WhatsApp Business API (On-Premises compatible) is running");
    println!("  URL:    https://localhost:{port}/v1/   (self-signed certificate: use curl -k)");
    println!("  Console: https://localhost:{port}/console  (the admin console in a browser)");
    if first_login {
        println!(
            "  Login:  {ADMIN} / {DEFAULT_PASSWORD}  (the first login must set a new password:"
        );
        println!("          curl -k -u {ADMIN}:{DEFAULT_PASSWORD} -X POST https://localhost:{port}/v1/users/login \\");
        println!("               -H 'Content-Type: application/json' -d '{{\"new_password\":\"<New-Passw0rd!>\"}}')");
    } else {
        println!("  Login:  {ADMIN} / the password you set on first login");
    }
    if let Some(control) = simulator {
        println!(
            "  Network simulator control API: {control}/control/  (certificates, codes, customers)"
        );
    }
    println!();
}
