//! `wanet`, the simulated WhatsApp network (design.md §5).
//!
//! It serves the coreapp's side of `wa-netproto` over TLS (registration, the directory, message
//! sends with the 24-hour window and the phones' receipts, an offline store that survives client
//! crashes) and a control API through which tests and demos play the consumers.

mod catalogs;
mod certs;
mod clock;
mod config;
mod control;
mod control_config;
mod dedupe;
mod directory;
mod durability;
mod errors;
mod ids;
mod limits;
mod media;
mod messaging;
mod network;
mod options;
mod outage;
mod outbox;
mod persist;
mod phone;
mod profile;
mod profiles;
mod registration;
mod server;
mod session;
mod shards;
mod stickers;
mod templates;
mod tls;
mod traffic;
mod verify_lock;

pub use config::{RateLimitPreset, RuntimeConfig, WanetConfig};
pub use options::WanetOptions;
pub use tls::SERVER_NAME;

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
    let tls = tls::generate()?;
    let mut network = Network::new(Rules::from_config(&config), config.seed);
    let state_store = persist::open(config.state_url(), &mut network).await?;
    let network = Arc::new(network);
    let shutdown = CancellationToken::new();
    // Stopping the servers stops the flusher too, after a last write.
    let flusher_stop = shutdown.child_token();
    let flushed_out = CancellationToken::new();
    let flusher = persist::spawn_flusher(
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
    let protocol_task = tokio::spawn(server::accept_loop(
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
