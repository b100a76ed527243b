//! The coreapp (container `wacore`): the only process that will talk to the network. It serves
//! the webapp over the internal RPC of [`rpc`].
//!
//! Today it reports its gateway status honestly: `uninitialized` until its database is open, then
//! `unregistered`, because no phone number can be registered yet (registration, the network
//! session and the initialization sequence come with the wanet work).

pub mod rpc;
pub mod state;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use std::net::SocketAddr;
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
}

/// Opens the database from the settings and starts the internal RPC.
pub async fn start(settings: Settings) -> Result<RunningCoreapp, StartError> {
    let state = web::Data::new(CoreState::new());
    let store = wa_common::storage::open(&settings).await?;
    start_with_store(settings, store, state).await
}

/// Starts on an already opened store (the one-process launcher shares one).
pub async fn start_with_store(
    settings: Settings,
    store: Store,
    state: web::Data<CoreState>,
) -> Result<RunningCoreapp, StartError> {
    wa_api::envelope::set_version(&settings.version);
    state.attach_store(store);
    let app_state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(app_state.clone())
            .configure(rpc::configure)
            .default_service(web::to(rpc::unknown_command))
    })
    .workers(1)
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
    Ok(RunningCoreapp {
        server: server.run(),
        addresses,
        state,
    })
}
