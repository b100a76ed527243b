//! The PROXY protocol (version 2) in front of TLS, for a webapp behind a TCP load balancer
//! (`WA_WEB_PROXY_PROTOCOL=1`, haproxy's `send-proxy-v2`, an AWS NLB's proxy protocol v2).
//!
//! A TCP pass-through balancer hides the client: every connection comes from the balancer. With
//! this on, the balancer writes a binary header with the client's address before the TLS
//! handshake, and the webapp hands that address to actix as the connection's peer address, so the
//! per-IP login lockout, the user-change limit and the access log see the real client.
//!
//! actix-web's `HttpServer` reads TLS directly off the socket, so here the webapp runs its own
//! accept service on actix-server: read the header, do the TLS handshake, then give the stream and
//! the client address to actix-http's `HttpService`, the same service `HttpServer` builds.
//!
//! The header is required on every connection once this is on (the protocol forbids guessing
//! whether one is present): a connection without one is closed. A `LOCAL` header (a balancer's
//! own health check) keeps the socket's peer address.

use actix_http::{HttpService, Protocol, Request, Response};
use actix_server::Server;
use actix_service::{
    fn_factory, fn_service, map_config, IntoServiceFactory, Service, ServiceFactory,
    ServiceFactoryExt,
};
use actix_web::body::MessageBody;
use actix_web::dev::AppConfig;
use ppp::v2;
use std::net::{SocketAddr, TcpListener};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// How long a connection may take to send its header; a balancer sends it at once, so this only
/// bounds sockets that never send anything.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Signature (12 bytes), version/command, family/protocol and the length of the rest (2).
const FIXED_PART: usize = 16;

/// Largest header accepted: the fixed part plus addresses and the TLVs haproxy or an NLB add.
const MAX_HEADER_BYTES: usize = 4096;

/// Why a connection was closed before HTTP.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("no PROXY protocol v2 header within {HEADER_TIMEOUT:?}")]
    Timeout,
    #[error("reading the PROXY header: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a PROXY protocol v2 header: {0}")]
    Invalid(String),
    #[error("PROXY header of {0} bytes is longer than {MAX_HEADER_BYTES}")]
    TooLong(usize),
}

/// Serves `factory`'s app over TLS on `listener`, every connection starting with a PROXY v2
/// header. `workers` 0 means actix's default (one per core).
pub fn serve<F, I, S, B>(
    listener: TcpListener,
    tls: rustls::ServerConfig,
    workers: usize,
    factory: F,
) -> std::io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let mut builder = Server::build();
    if workers > 0 {
        builder = builder.workers(workers);
    }
    builder = builder.listen("webapp-proxy-protocol", listener, move || {
        let factory = factory.clone();
        let acceptor = acceptor.clone();
        fn_factory(move || {
            // actix's public AppConfig says "http" and a placeholder host: nothing of the webapp
            // reads either (links are built from the Host header and always say https).
            let app = factory()
                .into_factory()
                .map_err(|err| err.into().error_response());
            let http = HttpService::build().finish(map_config(app, |_| AppConfig::default()));
            let acceptor = acceptor.clone();
            async move {
                let http = Rc::new(
                    http.new_service(())
                        .await
                        .map_err(|e| tracing::error!("webapp worker did not start: {e:?}"))?,
                );
                Ok::<_, ()>(fn_service(move |tcp: TcpStream| {
                    serve_connection(tcp, acceptor.clone(), http.clone())
                }))
            }
        })
    })?;
    Ok(builder.run())
}

/// One connection: header, TLS, then HTTP with the client's address as the peer address.
async fn serve_connection<H>(
    mut tcp: TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    http: Rc<H>,
) -> Result<(), ()>
where
    H: Service<(
        tokio_rustls::server::TlsStream<TcpStream>,
        Protocol,
        Option<SocketAddr>,
    )>,
    H::Error: std::fmt::Debug,
{
    let socket_peer = tcp.peer_addr().ok();
    let header = tokio::time::timeout(HEADER_TIMEOUT, read_client_address(&mut tcp))
        .await
        .unwrap_or(Err(ProxyError::Timeout));
    let client = match header {
        Ok(client) => client.or(socket_peer),
        Err(e) => {
            tracing::info!(peer = ?socket_peer, "connection closed: {e}");
            return Err(());
        }
    };
    let tls = acceptor
        .accept(tcp)
        .await
        .map_err(|e| tracing::debug!(?client, "TLS handshake failed: {e}"))?;
    // No ALPN is offered (HTTP/2 is not built in), so every connection is HTTP/1.1.
    http.call((tls, Protocol::Http1, client))
        .await
        .map(|_| ())
        .map_err(|e| tracing::debug!(?client, "connection ended: {e:?}"))
}

/// Reads exactly one v2 header (nothing of the TLS handshake after it) and returns the client's
/// address, or `None` for a `LOCAL` or non-IP header.
pub async fn read_client_address(tcp: &mut TcpStream) -> Result<Option<SocketAddr>, ProxyError> {
    // Signature (12), version/command, family/protocol, then the length of the rest.
    let mut header = vec![0u8; FIXED_PART];
    tcp.read_exact(&mut header).await?;
    if !header.starts_with(v2::PROTOCOL_PREFIX) {
        return Err(ProxyError::Invalid("no v2 signature".into()));
    }
    let rest = usize::from(u16::from_be_bytes([header[14], header[15]]));
    let total = FIXED_PART + rest;
    if total > MAX_HEADER_BYTES {
        return Err(ProxyError::TooLong(total));
    }
    header.resize(total, 0);
    tcp.read_exact(&mut header[FIXED_PART..]).await?;
    let parsed =
        v2::Header::try_from(header.as_slice()).map_err(|e| ProxyError::Invalid(e.to_string()))?;
    Ok(client_address(&parsed))
}

fn client_address(header: &v2::Header<'_>) -> Option<SocketAddr> {
    if header.command == v2::Command::Local {
        return None;
    }
    match header.addresses {
        v2::Addresses::IPv4(a) => Some(SocketAddr::from((a.source_address, a.source_port))),
        v2::Addresses::IPv6(a) => Some(SocketAddr::from((a.source_address, a.source_port))),
        v2::Addresses::Unix(_) | v2::Addresses::Unspecified => None,
    }
}
