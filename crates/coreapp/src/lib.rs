//! The coreapp (container `wacore`): the only process that talks to the network.
//!
//! - [`rpc`]: the internal API the webapp relays public calls to (account, contacts, messages,
//!   settings, gateway status).
//! - [`lifecycle`]: the network session and the initialization sequence; [`network`] the
//!   session's transport.
//! - [`messages`]: sending, with the delivery worker; [`inbound`]: what the network pushes.
//! - [`webhooks`]: the dispatcher of the durable callback outbox; [`settings`]: the application
//!   settings; [`stats`]: `/v1/stats/app` and `/v1/stats/db`.

pub mod account;
pub mod backup;
pub mod business;
pub mod capabilities;
pub mod catalogs;
pub mod certificates;
pub mod contacts;
pub mod conversations;
pub mod delivery;
pub mod expiry;
pub mod first_party_stickers;
pub mod gc;
pub mod identity;
pub mod inbound;
pub mod lifecycle;
pub mod log_settings;
pub mod media;
pub mod message_status;
pub mod messages;
pub mod network;
pub mod outbound;
pub mod profile;
pub mod rpc;
pub mod settings;
pub mod state;
pub mod stats;
pub mod stickerpacks;
pub mod support;
pub mod templates;
pub mod webhook_test;
pub mod webhooks;
pub mod webp;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use std::net::SocketAddr;
use std::sync::Arc;
use wa_common::Settings;
use wa_store::Store;

pub use state::CoreState;

/// A coreapp that is listening; await `server` to run it.
pub struct RunningCoreapp {
    pub server: Server,
    pub addresses: Vec<SocketAddr>,
    pub state: web::Data<CoreState>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Store(#[from] wa_store::StoreError),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    #[error("statistics: {0}")]
    Stats(#[from] prometheus::Error),
}

/// Opens the database from the settings and starts the coreapp.
pub async fn start(settings: Settings) -> Result<RunningCoreapp, StartError> {
    let store = wa_common::storage::open(&settings).await?;
    start_with_store(settings, store).await
}

/// Starts on an already opened store (the one-process launcher shares one): the internal RPC,
/// the network lifecycle, the delivery worker and the webhook dispatcher.
pub async fn start_with_store(
    settings: Settings,
    store: Store,
) -> Result<RunningCoreapp, StartError> {
    wa_api::envelope::set_version(&settings.version);
    wa_common::tls::install_crypto_provider();
    let app_settings = settings::SettingsHandle::load(&store).await?;
    let stats = Arc::new(stats::CoreStats::new()?);
    let state = web::Data::new(
        CoreState::new(
            store.clone(),
            app_settings.clone(),
            settings.coreapp.clone(),
            stats.clone(),
        )
        .with_media_dir(settings.media_dir.clone()),
    );
    let pending = web::Data::new(account::PendingRegistration::default());
    let app_state = state.clone();
    let (store_data, settings_data) = (
        web::Data::new(store.clone()),
        web::Data::new(app_settings.clone()),
    );
    let server = HttpServer::new(move || {
        App::new()
            .app_data(app_state.clone())
            .app_data(pending.clone())
            .app_data(store_data.clone())
            .app_data(settings_data.clone())
            .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
            .configure(rpc::configure)
            .default_service(web::to(rpc::unknown_command))
            .wrap(from_fn(stats::count_endpoint_requests))
    })
    .workers(2)
    .bind(settings.coreapp.listen.as_str())?;
    let addresses = server.addrs();
    tracing::info!(
        "coreapp internal RPC listening on {}",
        addresses
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let shared = state.clone().into_inner();
    certificates::load_webhook_ca(&shared).await?;
    tokio::spawn(lifecycle::run(shared.clone()));
    tokio::spawn(messages::delivery_worker(shared.clone()));
    tokio::spawn(stats::sample_queues(shared.clone()));
    tokio::spawn(templates::refresh_periodically(shared.clone()));
    tokio::spawn(first_party_stickers::refresh_periodically(shared.clone()));
    tokio::spawn(gc::collect_periodically(shared.clone()));
    tokio::spawn(log_settings::follow(app_settings.subscribe()));
    webhooks::spawn_dispatcher_with_stats(
        store,
        app_settings,
        shared.webhook_wake.clone(),
        webhooks::DispatcherOptions::default(),
        Some(stats),
        Some(shared.webhook_ca.subscribe()),
    );
    Ok(RunningCoreapp {
        server: server.run(),
        addresses,
        state,
    })
}
