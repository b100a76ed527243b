//! The coreapp's session with the network: one TLS connection carrying multiplexed requests,
//! pushes from the server, and heartbeats (protocol in `wa-netproto`).

use crate::util::lock;
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::codec::Framed;
use wa_netproto::{Frame, FrameCodec, NetError, Push, Request, Response, HEARTBEAT_SECS};

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("the network connection is closed")]
    Closed,
    #[error("the network did not answer in time")]
    Timeout,
    #[error("network error {}: {}", .0.code, .0.title)]
    Net(NetError),
}

impl From<SessionError> for wa_api::ApiError {
    /// The network's own code for an error it answered; 1011 when it could not answer.
    fn from(err: SessionError) -> Self {
        match err {
            SessionError::Net(e) => crate::util::failure::net_error(e),
            other => crate::util::failure::network_unreachable(other),
        }
    }
}

type Waiters = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Response, NetError>>>>>;

/// A handle on a live session; cheap to clone. Requests fail with `Closed` once it ends.
#[derive(Clone)]
pub struct NetClient {
    outgoing: mpsc::Sender<Frame>,
    waiters: Waiters,
    next_id: Arc<AtomicU64>,
    closed: watch::Receiver<bool>,
    close: Arc<watch::Sender<bool>>,
    timeout: Duration,
}

/// A push with the id to acknowledge once it has been persisted.
pub struct IncomingPush {
    pub id: u64,
    pub push: Push,
}

impl NetClient {
    pub async fn request(&self, request: Request) -> Result<Response, SessionError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.waiters).insert(id, tx);
        if self
            .outgoing
            .send(Frame::Request { id, request })
            .await
            .is_err()
        {
            lock(&self.waiters).remove(&id);
            return Err(SessionError::Closed);
        }
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(Ok(response))) => Ok(response),
            Ok(Ok(Err(net))) => Err(SessionError::Net(net)),
            Ok(Err(_dropped)) => Err(SessionError::Closed),
            Err(_elapsed) => {
                lock(&self.waiters).remove(&id);
                Err(SessionError::Timeout)
            }
        }
    }

    /// Tells the network a push is safely stored; it will not be sent again.
    pub async fn ack(&self, push_id: u64) -> Result<(), SessionError> {
        self.outgoing
            .send(Frame::Ack { id: push_id })
            .await
            .map_err(|_| SessionError::Closed)
    }

    /// Ends the session (e.g. to reconnect with new credentials).
    pub fn close(&self) {
        let _ = self.close.send(true);
    }

    pub fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// Resolves when the connection has ended.
    pub async fn closed(&self) {
        let mut closed = self.closed.clone();
        let _ = closed.wait_for(|c| *c).await;
    }
}

/// Connects to `address` over TLS and starts the session's reader and writer tasks.
pub async fn connect(
    address: &str,
    tls: Arc<rustls::ClientConfig>,
    request_timeout: Duration,
) -> std::io::Result<(NetClient, mpsc::Receiver<IncomingPush>)> {
    let tcp = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(address))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
    tcp.set_nodelay(true)?;
    let host = address.rsplit_once(':').map_or(address, |(h, _)| h);
    let server_name =
        rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_string())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(server_name, tcp)
        .await?;
    let (sink, stream) = Framed::new(stream, FrameCodec::default()).split();

    let (out_tx, out_rx) = mpsc::channel::<Frame>(1024);
    let (push_tx, push_rx) = mpsc::channel::<IncomingPush>(1024);
    let (closed_tx, closed_rx) = watch::channel(false);
    let closed_tx = Arc::new(closed_tx);
    let waiters: Waiters = Arc::default();
    tokio::spawn(write_loop(sink, out_rx, closed_rx.clone()));
    let reader = Reader {
        waiters: waiters.clone(),
        pushes: push_tx,
        outgoing: out_tx.clone(),
        closed: closed_tx.clone(),
    };
    tokio::spawn(reader.run(stream));
    let client = NetClient {
        outgoing: out_tx,
        waiters,
        next_id: Arc::new(AtomicU64::new(1)),
        closed: closed_rx,
        close: closed_tx,
        timeout: request_timeout,
    };
    Ok((client, push_rx))
}

type FrameSink = futures_util::stream::SplitSink<
    Framed<tokio_rustls::client::TlsStream<TcpStream>, FrameCodec>,
    Frame,
>;
type FrameStream = futures_util::stream::SplitStream<
    Framed<tokio_rustls::client::TlsStream<TcpStream>, FrameCodec>,
>;

/// Sends queued frames, and a `Ping` whenever the line has been quiet for a heartbeat.
async fn write_loop(
    mut sink: FrameSink,
    mut outgoing: mpsc::Receiver<Frame>,
    mut closed: watch::Receiver<bool>,
) {
    let heartbeat = Duration::from_secs(HEARTBEAT_SECS);
    let mut nonce = 0u64;
    loop {
        let frame = tokio::select! {
            frame = outgoing.recv() => match frame { Some(f) => f, None => break },
            _ = tokio::time::sleep(heartbeat) => { nonce += 1; Frame::Ping { nonce } }
            _ = closed.wait_for(|c| *c) => break,
        };
        if let Err(e) = sink.send(frame).await {
            tracing::warn!("network write failed: {e}");
            break;
        }
    }
    let _ = sink.close().await;
}

struct Reader {
    waiters: Waiters,
    pushes: mpsc::Sender<IncomingPush>,
    outgoing: mpsc::Sender<Frame>,
    closed: Arc<watch::Sender<bool>>,
}

impl Reader {
    /// Routes responses to their waiters and pushes to the processor; ends the session on
    /// silence, error, EOF or `close()`.
    async fn run(self, mut stream: FrameStream) {
        let silence_limit = Duration::from_secs(HEARTBEAT_SECS * 3);
        let mut closed = self.closed.subscribe();
        loop {
            let next = tokio::select! {
                next = tokio::time::timeout(silence_limit, stream.next()) => next,
                _ = closed.wait_for(|c| *c) => break,
            };
            let frame = match next {
                Ok(Some(Ok(frame))) => frame,
                Ok(Some(Err(e))) => {
                    tracing::warn!("network read failed: {e}");
                    break;
                }
                Ok(None) => break,
                Err(_) => {
                    tracing::warn!("network silent for {silence_limit:?}; dropping the connection");
                    break;
                }
            };
            if !self.route(frame).await {
                break;
            }
        }
        let _ = self.closed.send(true);
        // Waiters whose answer can no longer come learn it now (their senders drop).
        lock(&self.waiters).clear();
    }

    /// False when the push processor is gone and the session should end.
    async fn route(&self, frame: Frame) -> bool {
        match frame {
            Frame::Response { id, result } => {
                if let Some(waiter) = lock(&self.waiters).remove(&id) {
                    let _ = waiter.send(result);
                }
            }
            Frame::Push { id, push } => {
                return self.pushes.send(IncomingPush { id, push }).await.is_ok();
            }
            Frame::Ping { nonce } => {
                let _ = self.outgoing.send(Frame::Pong { nonce }).await;
            }
            Frame::Pong { .. } | Frame::Ack { .. } | Frame::Request { .. } => {}
        }
        true
    }
}

/// The TLS client configuration: the configured CA, or (for the bundled simulator) none.
pub fn tls_config(ca_file: Option<&std::path::Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let config = match ca_file {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
                roots.add(cert).map_err(|e| e.to_string())?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyServer(provider)))
            .with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// Accepts any server certificate (signatures are still checked). Used only when no CA is
/// configured, i.e. against the bundled simulator, which mints a fresh certificate per start.
#[derive(Debug)]
struct AcceptAnyServer(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
