//! One client connection: TLS, then frames. A reader task answers requests and acks; a writer
//! task owns the socket's sending half and interleaves responses with the business's pushes.
//!
//! With the two split, reading requests and acks never waits for a slow socket write, while
//! the bounded channel between them still applies backpressure to a client that never reads.

use crate::base::errors::access_denied;
use crate::network::messaging::run_delivery;
use crate::network::registration::CodeRequestInput;
use crate::network::Network;
use crate::routing::shards::SessionLink;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify};
use tokio_rustls::TlsAcceptor;
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;
use wa_netproto::{
    CodecError, Credentials, Frame, FrameCodec, NetError, Push, Request, Response, SessionScope,
    HEARTBEAT_SECS,
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

/// The byte stream under the frames: TLS in production, an in-memory pipe in unit tests.
pub trait Stream: AsyncRead + AsyncWrite + Send + 'static {}
impl<S: AsyncRead + AsyncWrite + Send + 'static> Stream for S {}

/// What the reader hands the writer.
enum Outgoing {
    Frame(Frame),
    /// The session is authenticated: start sending the business's pushes, the offline backlog
    /// first, closed by `BacklogDone`.
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
    if let Some(left) = network.outage_remaining() {
        // During an outage the network is unreachable: the connection is dropped unanswered.
        return tracing::debug!(%peer, "refused during the outage ({left:?} left)");
    }
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => return tracing::debug!(%peer, "TLS handshake failed: {e}"),
        Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
    };
    run(network, tls, peer, shutdown).await;
}

/// Runs the protocol on an established stream until either side ends it.
async fn run<S: Stream>(
    network: Arc<Network>,
    stream: S,
    peer: SocketAddr,
    shutdown: CancellationToken,
) {
    let (read_half, write_half) = tokio::io::split(stream);
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
        answer_delay: Duration::ZERO,
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
    /// How long the network waits before answering the send just dispatched (latency.rs).
    answer_delay: Duration,
}

impl Session {
    async fn read_loop<S: Stream>(&mut self, mut frames: FramedRead<ReadHalf<S>, FrameCodec>) {
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
                // The client stores the credentials it is given: they must outlive a restart
                // of the network before it has them. A template the business was told it
                // created (or deleted) must not come back changed after a restart either.
                let durable = matches!(
                    request,
                    Request::Register { .. }
                        | Request::SetTwoStep { .. }
                        | Request::CreateTemplate { .. }
                        | Request::DeleteTemplate { .. }
                );
                let result = self.dispatch(request);
                let accept_delay = std::mem::take(&mut self.answer_delay);
                if durable && result.is_ok() {
                    self.network.persist.flushed().await;
                }
                if !accept_delay.is_zero() {
                    // The answer comes later; other requests go on meanwhile.
                    let tx = self.tx.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(accept_delay).await;
                        let _ = tx
                            .send(Outgoing::Frame(Frame::Response { id, result }))
                            .await;
                    });
                    return true;
                }
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
        match request {
            Request::Hello {
                client_version,
                credentials,
                scope,
            } => self.hello(&client_version, credentials, scope),
            Request::RequestCode {
                cc,
                phone_number,
                method,
                cert,
                pin,
            } => network.request_code(CodeRequestInput {
                cc: &cc,
                phone_number: &phone_number,
                method: &method,
                cert: &cert,
                pin: pin.as_deref(),
            }),
            Request::Register {
                cc,
                phone_number,
                code,
            } => network.register(&cc, &phone_number, &code),
            other => match self.business.clone() {
                Some(business) => self.business_request(&business, other),
                None => Err(access_denied(
                    "authenticate with Hello and credentials first",
                )),
            },
        }
    }

    /// Requests only an authenticated session may make.
    fn business_request(&mut self, business: &str, request: Request) -> Result<Response, NetError> {
        let network = &self.network;
        match request {
            Request::GetTemplates => Ok(network.templates(business)),
            Request::CheckContacts { wa_ids } => Ok(network.check_contacts(&wa_ids)),
            Request::SendMessage { id, to, message } => {
                network.check_terms(business)?;
                network.admit_shard(business, self.id, &to)?;
                network.admit_send(business, &id, &to, &message)?;
                let (response, delivery) = network.send_message(business, &id, &to, message);
                if matches!(
                    response,
                    Response::Accepted {
                        duplicate: false,
                        ..
                    }
                ) {
                    network.count_shard_send(business, self.id);
                }
                if let Some(delivery) = delivery {
                    self.answer_delay = delivery.timing.answer;
                    tokio::spawn(run_delivery(network.clone(), delivery));
                }
                Ok(response)
            }
            Request::ReadReceipt { message_id, to } => network.read_receipt(&message_id, &to),
            Request::GetStickerPacks => Ok(crate::model::stickers::first_party()),
            Request::SetProfile { profile } => network.set_profile(business, profile),
            Request::SetTwoStep { pin } => network.set_two_step(business, pin),
            Request::UploadMediaChunk {
                id,
                offset,
                bytes_b64,
            } => network.media.upload_chunk(&id, offset, &bytes_b64),
            Request::UploadMediaDone {
                id,
                mime_type,
                sha256,
            } => network.media.upload_done(&id, &mime_type, &sha256),
            Request::DownloadMediaChunk {
                id,
                offset,
                max_bytes,
            } => network.media.download_chunk(&id, offset, max_bytes),
            Request::LookupProducts {
                catalog_id,
                product_retailer_ids,
            } => network.lookup_products(business, catalog_id, product_retailer_ids),
            Request::GetCapabilities { wa_id } => network.capabilities(&wa_id),
            Request::GetIdentity { wa_id } => network.identity(&wa_id),
            Request::CreateTemplate {
                name,
                language,
                category,
                components,
            } => network.submit_template(business, &name, &language, &category, &components),
            Request::DeleteTemplate { name, language } => {
                network.remove_template(business, &name, language.as_deref())
            }
            // Answered by `dispatch` before authentication matters; kept total without a panic.
            Request::Hello { .. } | Request::RequestCode { .. } | Request::Register { .. } => {
                Err(access_denied("unexpected request"))
            }
        }
    }

    fn hello(
        &mut self,
        client_version: &str,
        credentials: Option<Credentials>,
        scope: SessionScope,
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
        if self.network.outage_remaining().is_some() {
            // Authenticated just as an outage began: the business is not let back in yet.
            self.close.cancel();
            return Err(NetError::new(1011, "Service not ready")
                .with_details("the network is unavailable (outage)"));
        }
        let link = SessionLink {
            id: self.id,
            wake: self.wake.clone(),
            close: self.close.clone(),
        };
        let (business, backlog) = self.network.hello(&credentials, link, scope)?;
        tracing::info!(peer = %self.peer, client_version, %business, ?scope, backlog = backlog.count, "business connected");
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

struct Writer<S: Stream> {
    sink: FramedWrite<WriteHalf<S>, FrameCodec>,
    rx: mpsc::Receiver<Outgoing>,
    network: Arc<Network>,
    session_id: u64,
    pushes: Option<PushStream>,
}

impl<S: Stream> Writer<S> {
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
            let keep_going = tokio::select! {
                outgoing = self.rx.recv() => match outgoing {
                    None => return Ok(()),
                    Some(first) => self.write_outgoing(first).await?,
                },
                _ = woken(wake) => self.send_pushes().await?,
            };
            if !keep_going {
                return Ok(());
            }
        }
    }

    /// Writes `first` and whatever else the reader has queued meanwhile, then flushes once:
    /// under load many responses share one TLS record and one system call.
    async fn write_outgoing(&mut self, first: Outgoing) -> Result<bool, CodecError> {
        let mut next = Some(first);
        let mut written = 0;
        while let Some(outgoing) = next {
            match outgoing {
                Outgoing::Frame(frame) => self.sink.feed(frame).await?,
                Outgoing::StartPushes(stream) => {
                    self.pushes = Some(stream);
                    if !self.send_pushes().await? {
                        return Ok(false);
                    }
                }
            }
            written += 1;
            next = if written < OUTGOING_QUEUE {
                self.rx.try_recv().ok()
            } else {
                None
            };
        }
        self.sink.flush().await?;
        Ok(true)
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

async fn feed_marker<S: Stream>(
    sink: &mut FramedWrite<WriteHalf<S>, FrameCodec>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Rules, WanetConfig};
    use tokio::io::DuplexStream;

    /// A session on an in-memory pipe, and the client's end of it.
    fn pipe() -> (
        FramedRead<ReadHalf<DuplexStream>, FrameCodec>,
        FramedWrite<WriteHalf<DuplexStream>, FrameCodec>,
    ) {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let network = Arc::new(Network::new(
            Rules::from_config(&WanetConfig::default()),
            Some(1),
        ));
        let peer = SocketAddr::from(([127, 0, 0, 1], 1));
        tokio::spawn(run(network, server, peer, CancellationToken::new()));
        let (read_half, write_half) = tokio::io::split(client);
        (
            FramedRead::new(read_half, FrameCodec::default()),
            FramedWrite::new(write_half, FrameCodec::default()),
        )
    }

    // Paused time: tokio jumps the clock forward whenever every task waits, so these tests
    // cover minutes of heartbeat behaviour without taking any.
    #[tokio::test(start_paused = true)]
    async fn a_silent_client_is_disconnected_after_three_heartbeats() {
        let (mut from_server, _to_server) = pipe();
        let started = tokio::time::Instant::now();
        assert!(
            from_server.next().await.is_none(),
            "the server closes the session"
        );
        assert!(started.elapsed() >= IDLE_TIMEOUT);
    }

    #[tokio::test(start_paused = true)]
    async fn pings_keep_a_session_alive() {
        let (mut from_server, mut to_server) = pipe();
        for nonce in 0..10 {
            tokio::time::sleep(Duration::from_secs(HEARTBEAT_SECS)).await;
            to_server.send(Frame::Ping { nonce }).await.unwrap();
            let pong = from_server.next().await.unwrap().unwrap();
            assert_eq!(pong, Frame::Pong { nonce });
        }
    }
}
