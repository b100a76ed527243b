//! `wa-dev`: webapp and coreapp in one process on an embedded SQLite database under a data
//! directory. The zero-setup way to try the product (the README's first command).

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use wa_api::users::{ADMIN_USERNAME as ADMIN, DEFAULT_ADMIN_PASSWORD as DEFAULT_PASSWORD};

#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    common: wa_common::cli::CommonArgs,

    /// Where the SQLite database (and later media) are kept.
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,

    /// HTTPS address of the API (the compose files publish 9090 too).
    #[arg(long, default_value = "127.0.0.1:9090")]
    listen: String,
}

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = cli.common.load_with_or_exit(|s| {
        s.data_dir = cli.data_dir.clone();
        s.media_dir = cli.data_dir.join("media");
        s.webapp.listen = cli.listen.clone();
        s.coreapp.listen = "127.0.0.1:0".into();
    });
    wa_common::telemetry::init(&settings.log);
    match run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("wa-dev: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(mut settings: wa_common::Settings) -> Result<(), String> {
    if let Err(e) = std::fs::create_dir_all(&settings.data_dir) {
        return Err(format!(
            "cannot create {}: {e}",
            settings.data_dir.display()
        ));
    }
    let store = wa_common::storage::open(&settings)
        .await
        .map_err(|e| e.to_string())?;
    let core = coreapp::start_with_store(settings.clone(), store.clone())
        .await
        .map_err(|e| e.to_string())?;
    let core_addr = core.addresses.first().ok_or("coreapp bound no address")?;
    settings.webapp.coreapp_host = core_addr.ip().to_string();
    settings.webapp.coreapp_port = core_addr.port();
    let web = webapp::start_with_store(settings.clone(), store.clone())
        .await
        .map_err(|e| e.to_string())?;
    let port = web.addresses.first().map_or(0, |a| a.port());
    print_banner(&store, port).await;
    let (web_result, core_result) = tokio::join!(web.server, core.server);
    web_result.and(core_result).map_err(|e| e.to_string())
}

/// Tells the person who just ran the command where to go and how to log in.
async fn print_banner(store: &wa_store::Store, port: u16) {
    let first_login = matches!(
        store.find_user(ADMIN).await,
        Ok(Some(user)) if user.must_change_password
    );
    println!();
    println!("  WhatsApp Business API (On-Premises compatible) is running");
    println!("  URL:    https://localhost:{port}/v1/   (self-signed certificate: use curl -k)");
    if first_login {
        println!(
            "  Login:  {ADMIN} / {DEFAULT_PASSWORD}  (the first login must set a new password:"
        );
        println!("          curl -k -u {ADMIN}:{DEFAULT_PASSWORD} -X POST https://localhost:{port}/v1/users/login \\");
        println!("               -H 'Content-Type: application/json' -d '{{\"new_password\":\"<New-Passw0rd!>\"}}')");
    } else {
        println!("  Login:  {ADMIN} / the password you set on first login");
    }
    println!();
}
