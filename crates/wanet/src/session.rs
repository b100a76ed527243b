//! One client connection: TLS, then frames. A reader task answers requests and acks; a writer
//! task owns the socket's sending half and interleaves responses with the business's pushes.
//!
//! Splitting them keeps a client that is slow to read pushes from stalling the answers to its
//! requests' reader (and the other way round), while the bounded channel between them still
//! applies backpressure to a client that never reads at all.

use crate::errors::access_denied;
use crate::messaging::run_delivery;
use crate::network::Network;
use crate::outbox::SessionLink;
use crate::registration::CodeRequestInput;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;
use wa_netproto::{
    CodecError, Credentials, Frame, FrameCodec, NetError, Push, Request, Response, HEARTBEAT_SECS,
};

/// A client that sends nothing (not even a `Ping`) for three heartbeats is gone.
const IDLE_TIMEOUT: Duration = Duration::from_secs(3 * HEARTBEAT_SECS);
/// A TCP connection that does not finish its TLS handshake in this time is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames waiting for the writer before the reader stops reading.
const OUTGOING_QUEUE: usize = 256;
/// Pushes written per turn of the writer, so responses are never stuck behind a long backlog.
const PUSH_BATCH: usize = 128;

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

type Tls = TlsStream<TcpStream>;

/// What the reader hands the writer.
enum Outgoing {
    Frame(Frame),
    /// The session is authenticated: start sending the business's pushes, the first `backlog`
    /// of them being the offline backlog that `BacklogDone` closes.
    StartPushes(PushStream),
}

struct PushStream {
    business: String,
    wake: Arc<Notify>,
    /// While `BacklogDone` is still due: the id of the last backlog push. The marker goes out
    /// before the first push with a higher id, or once nothing is pending.
    marker_after: Option<u64>,
}

/// Serves one accepted TCP connection until it closes or `shutdown` is cancelled.
pub async fn serve(
    network: Arc<Network>,
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
    shutdown: CancellationToken,
) {
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => return tracing::debug!(%peer, "TLS handshake failed: {e}"),
        Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
    };
    let (read_half, write_half) = tokio::io::split(tls);
    let close = shutdown.child_token();
    let (tx, rx) = mpsc::channel(OUTGOING_QUEUE);
    let id = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
    let writer = Writer {
        sink: FramedWrite::new(write_half, FrameCodec::default()),
        rx,
        network: network.clone(),
        session_id: id,
        pushes: None,
    };
    let writer_task = tokio::spawn(writer.run(close.clone()));
    let mut session = Session {
        id,
        peer,
        network,
        tx,
        wake: Arc::new(Notify::new()),
        close: close.clone(),
        business: None,
        start_pushes: None,
    };
    tracing::debug!(%peer, session = id, "connected");
    session
        .read_loop(FramedRead::new(read_half, FrameCodec::default()))
        .await;
    close.cancel();
    let _ = writer_task.await;
    if let Some(business) = &session.business {
        session.network.detach(business, id);
    }
    tracing::debug!(%peer, session = id, "disconnected");
}

struct Session {
    id: u64,
    peer: SocketAddr,
    network: Arc<Network>,
    tx: mpsc::Sender<Outgoing>,
    wake: Arc<Notify>,
    close: CancellationToken,
    /// The business this session is authenticated as.
    business: Option<String>,
    /// Set by a successful `Hello`, handed to the writer right after the `Welcome`.
    start_pushes: Option<PushStream>,
}

impl Session {
    async fn read_loop(&mut self, mut frames: FramedRead<ReadHalf<Tls>, FrameCodec>) {
        loop {
            let next = tokio::select! {
                _ = self.close.cancelled() => return,
                next = tokio::time::timeout(IDLE_TIMEOUT, frames.next()) => next,
            };
            let frame = match next {
                Err(_) => return tracing::info!(peer = %self.peer, "no heartbeat; closing"),
                Ok(None) => return,
                Ok(Some(Err(CodecError::Io(e)))) => {
                    return tracing::debug!(peer = %self.peer, "read failed: {e}")
                }
                Ok(Some(Err(e))) => {
                    return tracing::warn!(peer = %self.peer, "closing on a malformed frame: {e}")
                }
                Ok(Some(Ok(frame))) => frame,
            };
            if !self.handle(frame).await {
                return;
            }
        }
    }

    /// Handles one frame; `false` means the connection must close.
    async fn handle(&mut self, frame: Frame) -> bool {
        match frame {
            Frame::Request { id, request } => {
                let result = self.dispatch(request);
                if !self.send(Frame::Response { id, result }).await {
                    return false;
                }
                match self.start_pushes.take() {
                    Some(stream) => self.tx.send(Outgoing::StartPushes(stream)).await.is_ok(),
                    None => true,
                }
            }
            Frame::Ack { id } => {
                if let Some(business) = &self.business {
                    self.network.ack(business, id);
                }
                true
            }
            Frame::Ping { nonce } => self.send(Frame::Pong { nonce }).await,
            Frame::Pong { .. } => true,
            Frame::Response { .. } | Frame::Push { .. } => {
                tracing::warn!(peer = %self.peer, "client sent a server-only frame; closing");
                false
            }
        }
    }

    async fn send(&self, frame: Frame) -> bool {
        self.tx.send(Outgoing::Frame(frame)).await.is_ok()
    }

    fn dispatch(&mut self, request: Request) -> Result<Response, NetError> {
        let network = &self.network;
        match (request, self.business.clone()) {
            (Request::Hello { client_version, credentials }, _) => {
                self.hello(&client_version, credentials)
            }
            (Request::RequestCode { cc, phone_number, method, cert, pin: _ }, _) => {
                network.request_code(CodeRequestInput {
                    cc: &cc,
                    phone_number: &phone_number,
                    method: &method,
                    cert: &cert,
                })
            }
            (Request::Register { cc, phone_number, code }, _) => {
                network.register(&cc, &phone_number, &code)
            }
            (_, None) => Err(access_denied("authenticate with Hello and credentials first")),
            (Request::GetTemplates, Some(business)) => Ok(network.templates(&business)),
            (Request::CheckContacts { wa_ids }, Some(_)) => Ok(network.check_contacts(&wa_ids)),
            (Request::SendMessage { id, to, message }, Some(business)) => {
                let (response, delivery) = network.send_message(&business, &id, &to, message);
                if let Some(delivery) = delivery {
                    tokio::spawn(run_delivery(network.clone(), delivery));
                }
                Ok(response)
            }
            (Request::ReadReceipt { message_id, to }, Some(_)) => {
                network.read_receipt(&message_id, &to)
            }
        }
    }

    fn hello(
        &mut self,
        client_version: &str,
        credentials: Option<Credentials>,
    ) -> Result<Response, NetError> {
        if self.business.is_some() {
            return Err(access_denied("this session is already authenticated"));
        }
        let Some(credentials) = credentials else {
            tracing::info!(peer = %self.peer, client_version, "anonymous session");
            return Ok(Response::Welcome {
                business: None,
                backlog: 0,
            });
        };
        let link = SessionLink {
            id: self.id,
            wake: self.wake.clone(),
            close: self.close.clone(),
        };
        let (business, backlog) = self.network.hello(&credentials, link)?;
        tracing::info!(peer = %self.peer, client_version, %business, backlog = backlog.count, "business connected");
        self.business = Some(business.clone());
        self.start_pushes = Some(PushStream {
            business: business.clone(),
            wake: self.wake.clone(),
            marker_after: Some(backlog.last_id),
        });
        Ok(Response::Welcome {
            business: Some(business),
            backlog: u64::try_from(backlog.count).unwrap_or(u64::MAX),
        })
    }
}

struct Writer {
    sink: FramedWrite<WriteHalf<Tls>, FrameCodec>,
    rx: mpsc::Receiver<Outgoing>,
    network: Arc<Network>,
    session_id: u64,
    pushes: Option<PushStream>,
}

impl Writer {
    /// Writes until the session closes; closing it in turn when writing fails or the business
    /// moved to another session.
    async fn run(mut self, close: CancellationToken) {
        tokio::select! {
            _ = close.cancelled() => {}
            result = self.write_loop() => {
                if let Err(e) = result {
                    tracing::debug!(session = self.session_id, "write failed: {e}");
                }
                close.cancel();
            }
        }
    }

    async fn write_loop(&mut self) -> Result<(), CodecError> {
        loop {
            let wake = self.pushes.as_ref().map(|p| p.wake.clone());
            tokio::select! {
                outgoing = self.rx.recv() => match outgoing {
                    None => return Ok(()),
                    Some(Outgoing::Frame(frame)) => self.sink.send(frame).await?,
                    Some(Outgoing::StartPushes(stream)) => {
                        self.pushes = Some(stream);
                        if !self.send_pushes().await? {
                            return Ok(());
                        }
                    }
                },
                _ = woken(wake) => {
                    if !self.send_pushes().await? {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Sends the next batch of pushes, with `BacklogDone` right after the last backlog push.
    /// `false` when this session no longer serves the business.
    async fn send_pushes(&mut self) -> Result<bool, CodecError> {
        let Some(stream) = self.pushes.as_mut() else {
            return Ok(true);
        };
        let Some(batch) = self
            .network
            .take_pushes(&stream.business, self.session_id, PUSH_BATCH)
        else {
            return Ok(false);
        };
        let more = batch.len() == PUSH_BATCH;
        for (id, push) in batch {
            if stream.marker_after.is_some_and(|last| id > last) {
                stream.marker_after = None;
                feed_marker(&mut self.sink, &self.network, &stream.business).await?;
            }
            self.sink.feed(Frame::Push { id, push }).await?;
        }
        if !more && stream.marker_after.take().is_some() {
            feed_marker(&mut self.sink, &self.network, &stream.business).await?;
        }
        self.sink.flush().await?;
        if more {
            // Leave a wake-up for ourselves: the rest follows after any waiting response.
            stream.wake.notify_one();
        }
        Ok(true)
    }
}

async fn feed_marker(
    sink: &mut FramedWrite<WriteHalf<Tls>, FrameCodec>,
    network: &Network,
    business: &str,
) -> Result<(), CodecError> {
    let id = network.marker_id(business);
    sink.feed(Frame::Push {
        id,
        push: Push::BacklogDone,
    })
    .await
}

/// Resolves when pushes may be waiting; never before the session is authenticated.
async fn woken(wake: Option<Arc<Notify>>) {
    match wake {
        Some(wake) => wake.notified().await,
        None => std::future::pending().await,
    }
}
