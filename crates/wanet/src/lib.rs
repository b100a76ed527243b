//! `wanet`, the simulated WhatsApp network (design.md §5).
//!
//! It serves the coreapp's side of `wa-netproto` over TLS (registration, the directory, message
//! sends with the 24-hour window and the phones' receipts, an offline store that survives client
//! crashes) and a control API through which tests and demos play the consumers.
//!
//! Layers, each using only those below it (docs/architecture.md): `control`, `protocol` and
//! `state` over `network` (the shared state and its operations), over `realism` (the field's
//! rules), `routing` (where pushes go) and `model` (the data held), over `base`.

mod base;
mod config;
mod control;
mod model;
mod network;
mod options;
mod protocol;
mod realism;
mod routing;
mod state;

pub use config::{LatencyPreset, RateLimitPreset, RuntimeConfig, WanetConfig};
pub use options::WanetOptions;
pub use protocol::tls::SERVER_NAME;

use actix_web::dev::ServerHandle;
use config::Rules;
use futures_util::future::{select, Either};
use network::Network;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A started wanet. Dropping it leaves the servers running; [`RunningWanet::wait`] or
/// [`WanetHandle::stop`] end them.
pub struct RunningWanet {
    pub protocol_addr: SocketAddr,
    pub control_addr: SocketAddr,
    /// The CA that signed the protocol listener's certificate (server name [`SERVER_NAME`]).
    pub ca_pem: String,
    handle: WanetHandle,
    protocol_task: JoinHandle<()>,
    control_task: JoinHandle<io::Result<()>>,
    /// Writes the state; stopped (after a last write) once both servers are.
    flusher: JoinHandle<()>,
    flusher_stop: CancellationToken,
}

/// Stops a running wanet from anywhere (a signal handler, a test).
#[derive(Clone)]
pub struct WanetHandle {
    shutdown: CancellationToken,
    control: ServerHandle,
    /// Cancelled once the state's last changes are written.
    flushed_out: CancellationToken,
}

/// Binds both listeners and spawns their tasks on the current tokio runtime (an actix System is
/// one too).
pub async fn start(config: WanetConfig) -> io::Result<RunningWanet> {
    let tls = protocol::tls::generate()?;
    // A scenario that does not parse stops the start: better than a network set up by half.
    let scenario = match &config.scenario {
        Some(path) => Some(control::Scenario::read(path)?),
        None => None,
    };
    let mut network = Network::new(Rules::from_config(&config), config.seed);
    network.on_first_registration(Box::new(control::apply_waiting_scenario_entries));
    let state_store = state::open(config.state_url(), &mut network).await?;
    let network = Arc::new(network);
    let shutdown = CancellationToken::new();
    tokio::spawn(network::limits::watch_throttles(
        network.clone(),
        shutdown.child_token(),
    ));
    // Stopping the servers stops the flusher too, after a last write.
    let flusher_stop = shutdown.child_token();
    let flushed_out = CancellationToken::new();
    let flusher = state::spawn_flusher(
        network.clone(),
        state_store,
        flusher_stop.clone(),
        flushed_out.clone(),
    );
    let listener = TcpListener::bind(&config.listen).await?;
    let protocol_addr = listener.local_addr()?;
    let (control_server, control_addr) =
        control::bind(&config.control_listen, network.clone(), tls.ca_pem.clone())?;
    let handle = WanetHandle {
        shutdown: shutdown.clone(),
        control: control_server.handle(),
        flushed_out,
    };
    let control_task = tokio::spawn(control_server);
    if let Some(scenario) = scenario {
        let loaded = scenario.load(&network);
        for error in &loaded.errors {
            tracing::warn!("scenario {:?}: a step was refused: {error}", loaded.name);
        }
        tracing::info!(
            "scenario {:?}: {} steps applied, {} waiting for a registration, {} events {}",
            loaded.name,
            loaded.applied,
            loaded.waiting,
            loaded.events,
            if loaded.events_wait {
                "waiting for a registration"
            } else {
                "scheduled"
            }
        );
    }
    let protocol_task = tokio::spawn(protocol::server::accept_loop(
        listener,
        tls.acceptor,
        network,
        shutdown,
    ));
    tracing::info!(
        "wanet listening on {protocol_addr} (TLS), control API on http://{control_addr}"
    );
    Ok(RunningWanet {
        protocol_addr,
        control_addr,
        ca_pem: tls.ca_pem,
        handle,
        protocol_task,
        control_task,
        flusher,
        flusher_stop,
    })
}

impl RunningWanet {
    pub fn handle(&self) -> WanetHandle {
        self.handle.clone()
    }

    /// Runs until the wanet stops: through its handle, or because either server failed (which
    /// then stops the other).
    pub async fn wait(self) -> io::Result<()> {
        let result = match select(self.protocol_task, self.control_task).await {
            Either::Left((protocol, control_task)) => {
                self.handle.stop().await;
                let _ = control_task.await;
                protocol.map_err(io::Error::other)
            }
            Either::Right((control, protocol_task)) => {
                self.handle.stop().await;
                let _ = protocol_task.await;
                control.map_err(io::Error::other).and_then(|r| r)
            }
        };
        self.flusher_stop.cancel();
        let _ = self.flusher.await;
        tracing::info!("wanet stopped");
        result
    }

    /// Stops both servers and closes every session.
    pub async fn stop(self) -> io::Result<()> {
        self.handle.stop().await;
        self.wait().await
    }
}

impl WanetHandle {
    /// Starts stopping at once (closing the listener and every session); the returned future
    /// completes when the control API has finished its in-flight requests and the state's last
    /// changes are written. Not being `async fn`
    /// lets a `Drop` impl or a sync signal handler trigger it without awaiting.
    pub fn stop(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.shutdown.cancel();
        let control = self.control.stop(true);
        let flushed_out = self.flushed_out.clone();
        async move {
            control.await;
            flushed_out.cancelled().await;
        }
    }
}
