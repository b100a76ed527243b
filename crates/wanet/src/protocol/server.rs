//! The protocol listener: accepts TCP connections and hands each to its own session task.

use crate::network::Network;
use crate::protocol::session;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// Accepts until `shutdown` is cancelled; sessions are closed by the same token.
pub async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    network: Arc<Network>,
    shutdown: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, peer)) => {
                // Frames are small and latency matters more than packet count.
                let _ = tcp.set_nodelay(true);
                tokio::spawn(session::serve(
                    network.clone(),
                    acceptor.clone(),
                    tcp,
                    peer,
                    shutdown.clone(),
                ));
            }
            Err(e) => {
                // Usually out of file descriptors: pause rather than spin on the error.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
