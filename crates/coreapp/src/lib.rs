//! The coreapp (container `wacore`): the only process that talks to the network.
//!
//! Layers, each using only those below it (checked by `scripts/check-layout`):
//! - [`api`]: the internal RPC the webapp relays public calls to, one handler per
//!   [`wa_api::rpc::Endpoint`];
//! - [`engine`]: the background work (network session, inbound pushes, status recording,
//!   delivery, expiry, webhook dispatcher, schedules), started by its supervisor;
//! - [`domain`]: the rules and lookups both use (outbound validation, templates, media, ...);
//! - [`state`]: the shared live state (settings, statistics, caches, the session handle);
//! - [`network`]: the session's transport; [`util`]: failures mapped to On-Prem codes, helpers.
//!
//! This file wires them together: [`start`] opens the database, serves the RPC and starts the
//! background tasks.

pub mod api;
pub mod domain;
pub mod engine;
pub mod network;
pub mod state;
pub mod util;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use engine::supervisor::Supervisor;
use std::net::SocketAddr;
use std::sync::Arc;
use wa_common::Settings;
use wa_store::Store;

pub use state::CoreState;

/// A coreapp that is listening; await `server` to run it, then `supervisor.shutdown()`.
pub struct RunningCoreapp {
    pub server: Server,
    pub addresses: Vec<SocketAddr>,
    pub state: web::Data<CoreState>,
    pub supervisor: Supervisor,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Store(#[from] wa_store::StoreError),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    #[error("statistics: {0}")]
    Stats(#[from] prometheus::Error),
    #[error("{0}")]
    Cluster(&'static str),
}

/// Opens the database from the settings and starts the coreapp.
pub async fn start(settings: Settings) -> Result<RunningCoreapp, StartError> {
    let store = wa_common::storage::open(&settings).await?;
    start_with_store(settings, store).await
}

/// `WA_DB_UPGRADE=1` (Meta's `dbupgrade` container): opens the database, which applies the
/// pending migrations under the migration lock, and returns how many were applied, without
/// serving anything. Run before a new version's services so a long migration is not cut short by
/// their health checks.
pub async fn upgrade_database(settings: &Settings) -> Result<usize, StartError> {
    // Without a warm connection: one being opened in the background as the process exits
    // crashed this run (SIGSEGV in an `r2d2-worker` thread, about one run in three on PostgreSQL).
    let store = wa_common::storage::open_once(settings).await?;
    Ok(store.migrations_applied())
}

/// Starts on an already opened store (the one-process launcher shares one): the internal RPC
/// and the background tasks.
pub async fn start_with_store(
    settings: Settings,
    store: Store,
) -> Result<RunningCoreapp, StartError> {
    wa_api::envelope::set_version(&settings.version);
    wa_common::tls::install_crypto_provider();
    let state = web::Data::new(load_state(&settings, store).await?);
    let (server, addresses) = serve(&settings, state.clone())?;
    if let Some(address) = addresses.first() {
        state.cluster.set_listen_port(address.port());
    }
    let shared = state.clone().into_inner();
    shared.load_webhook_ca().await?;
    shared.load_cloud_webhooks().await?;
    let supervisor = start_background_tasks(shared);
    Ok(RunningCoreapp {
        server,
        addresses,
        state,
        supervisor,
    })
}

/// The state of a coreapp starting with `settings` on `store`: the application settings as
/// stored, fresh statistics, empty caches (public for the in-process tests).
pub async fn load_state(settings: &Settings, store: Store) -> Result<CoreState, StartError> {
    let app_settings = state::settings::SettingsHandle::load(&store).await?;
    let stats = Arc::new(state::stats::CoreStats::new()?);
    if settings.cluster.enabled() && store.backend() == wa_store::Backend::Sqlite {
        return Err(StartError::Cluster(
            "database engine sqlite is not supported for multiconnect mode",
        ));
    }
    let mut cluster = state::cluster::ClusterState::new(&settings.cluster, 0);
    cluster.guarded = !cluster.enabled && store.backend() != wa_store::Backend::Sqlite;
    if cluster.enabled {
        tracing::info!(
            "cluster mode: node {} ({})",
            cluster.node_id,
            if cluster.master { "master" } else { "coreapp" }
        );
    }
    Ok(
        CoreState::new(store, app_settings, settings.coreapp.clone(), stats)
            .with_media_dir(settings.media_dir.clone())
            .with_cluster(cluster),
    )
}

/// The internal RPC server on `coreapp.listen`, bound but not running yet.
fn serve(
    settings: &Settings,
    state: web::Data<CoreState>,
) -> std::io::Result<(Server, Vec<SocketAddr>)> {
    let pending = web::Data::new(api::account::PendingRegistration::default());
    let server = HttpServer::new(move || rpc_app(state.clone(), pending.clone()))
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
    Ok((server.run(), addresses))
}

/// The internal RPC as one actix `App`: every worker of [`start`] runs one, and the in-process
/// tests (`tests/common/test_app.rs`) run the same without a listener or background tasks.
/// `pending` is the registration waiting for its code, shared by all workers.
pub fn rpc_app(
    state: web::Data<CoreState>,
    pending: web::Data<api::account::PendingRegistration>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let store = web::Data::new(state.store.clone());
    let app_settings = web::Data::new(state.settings.clone());
    App::new()
        .app_data(state)
        .app_data(pending)
        .app_data(store)
        .app_data(app_settings)
        .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
        .configure(api::configure)
        .default_service(web::to(api::unknown_command))
        .wrap(from_fn(api::stats::count_endpoint_requests))
        .wrap(from_fn(api::request_span))
}

/// Every long-running task, under one supervisor.
fn start_background_tasks(state: Arc<CoreState>) -> Supervisor {
    use engine::cluster::{assignment, heartbeat, lease, while_primary};
    use engine::{delivery, dispatcher, lifecycle, log_settings, schedules};
    let mut supervisor = Supervisor::default();
    macro_rules! keep {
        ($name:literal, $task:path) => {{
            let state = state.clone();
            supervisor.keep_running($name, move || $task(state.clone()));
        }};
        // Work done once per cluster: on the primary master only.
        ($name:literal, primary $task:path) => {{
            let state = state.clone();
            supervisor.keep_running($name, move || while_primary(state.clone(), $task));
        }};
    }
    keep!("network session", lifecycle::run);
    if !state.cluster.master {
        keep!("delivery", delivery::delivery_worker);
    }
    keep!("webhook dispatcher", primary dispatcher::run_for);
    keep!("Cloud webhook dispatcher", primary dispatcher::run_cloud_for);
    keep!("queue sampling", schedules::sample_queues);
    keep!("stats log", schedules::log_stats);
    keep!("template refresh", schedules::refresh_templates);
    keep!("sticker pack refresh", schedules::refresh_sticker_packs);
    keep!("garbage collection", primary schedules::collect_garbage);
    if state.cluster.guarded {
        keep!("single-node guard", engine::cluster::single::guard);
    }
    if state.cluster.enabled {
        keep!("cluster heartbeat", heartbeat::run);
        if state.cluster.master {
            keep!("cluster lease", lease::run);
            keep!("shard assignment", assignment::run);
        }
    }
    let settings = state.settings.clone();
    supervisor.keep_running("log level", move || {
        log_settings::follow(settings.subscribe())
    });
    supervisor
}
