//! A small wanet client for the tests: real TLS on loopback, the netproto codec, and helpers
//! that wait for one response while keeping the pushes that arrive meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_util::codec::{FramedRead, FramedWrite};
use wa_netproto::{
    Credentials, Frame, FrameCodec, NetError, Push, ReceiptStatus, Request, Response,
};
use wanet::{RunningWanet, WanetConfig};

/// Failure guard for every wait: generous, never a measurement.
pub const WAIT: Duration = Duration::from_secs(15);

pub const BUSINESS_CC: &str = "1";
pub const BUSINESS_NUMBER: &str = "5550001111";
pub const BUSINESS: &str = "15550001111";
pub const CONSUMER: &str = "16315551234";

/// Fast phones that always read, so tests wait milliseconds and see every receipt.
pub fn test_config() -> WanetConfig {
    WanetConfig {
        listen: "127.0.0.1:0".into(),
        control_listen: "127.0.0.1:0".into(),
        delivery_latency_ms: 5,
        read_latency_ms: 5,
        read_probability: 1.0,
        seed: Some(7),
        ..WanetConfig::default()
    }
}

pub struct Net {
    pub wanet: RunningWanet,
    pub http: reqwest::Client,
}

impl Net {
    pub async fn start() -> Net {
        Net::start_with(test_config()).await
    }

    pub async fn start_with(config: WanetConfig) -> Net {
        let wanet = wanet::start(config).await.expect("wanet starts");
        Net {
            wanet,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.wanet.control_addr, path)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(self.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Posts a scenario file's text (TOML or JSON) to the control API.
    #[allow(dead_code)] // not every test file loads scenarios
    pub async fn post_scenario(&self, text: &str) -> (u16, Value) {
        let response = self
            .http
            .post(format!(
                "http://{}/control/scenarios",
                self.wanet.control_addr
            ))
            .body(text.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .patch(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn connect(&self) -> Client {
        Client::connect(&self.wanet).await
    }

    pub async fn mint_cert(&self, vname: &str) -> String {
        let (status, body) = self.post("/control/certs", json!({ "vname": vname })).await;
        assert_eq!(status, 201, "{body}");
        body["cert"].as_str().unwrap().to_string()
    }

    /// The code flow on an anonymous session, as a coreapp does it.
    pub async fn register(&self, cc: &str, number: &str, vname: &str) -> Credentials {
        let cert = self.mint_cert(vname).await;
        let mut client = self.connect().await;
        client.hello(None).await.unwrap();
        let sent = client.request_code(cc, number, "sms", &cert).await.unwrap();
        assert_eq!(
            sent,
            Response::CodeSent {
                vname: vname.into()
            }
        );
        let code = self.code(&format!("{cc}{number}")).await;
        match client.register(cc, number, &code).await.unwrap() {
            Response::Registered { credentials, .. } => credentials,
            other => panic!("expected Registered, got {other:?}"),
        }
    }

    pub async fn register_business(&self) -> Credentials {
        self.register(BUSINESS_CC, BUSINESS_NUMBER, "Acme Inc")
            .await
    }

    pub async fn code(&self, phone: &str) -> String {
        let (status, body) = self.get(&format!("/control/codes/{phone}")).await;
        assert_eq!(status, 200, "{body}");
        body["code"].as_str().unwrap().to_string()
    }

    /// An authenticated session whose backlog has been drained (and acked).
    pub async fn business_session(&self, credentials: &Credentials) -> Client {
        let mut client = self.connect().await;
        let welcome = client.hello(Some(credentials.clone())).await.unwrap();
        assert!(matches!(
            welcome,
            Response::Welcome {
                business: Some(_),
                ..
            }
        ));
        client.drain_backlog().await;
        client
    }

    /// The consumer sends a text to the (only) business; returns the inbound id.
    pub async fn consumer_says(&self, from: &str, body: &str) -> String {
        let (status, reply) = self
            .post(
                &format!("/control/consumers/{from}/messages"),
                json!({ "type": "text", "text": { "body": body } }),
            )
            .await;
        assert_eq!(status, 201, "{reply}");
        reply["id"].as_str().unwrap().to_string()
    }

    pub async fn consumer(&self, wa_id: &str) -> Value {
        let (status, body) = self.get(&format!("/control/consumers/{wa_id}")).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn business(&self, wa_id: &str) -> Value {
        let (status, body) = self.get(&format!("/control/businesses/{wa_id}")).await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

/// Each test's wanet stops with the test instead of lingering in the test binary.
impl Drop for Net {
    fn drop(&mut self) {
        drop(self.wanet.handle().stop());
    }
}

type Tls = TlsStream<TcpStream>;

pub struct Client {
    sink: FramedWrite<WriteHalf<Tls>, FrameCodec>,
    /// Frames from the reader task; `None` once the server closed the connection.
    frames: mpsc::UnboundedReceiver<Option<Frame>>,
    next_id: u64,
    pub pushes: VecDeque<(u64, Push)>,
    closed: bool,
    reader: tokio::task::JoinHandle<()>,
}

/// Dropping a client cuts the connection without a goodbye, like a crashed coreapp.
impl Drop for Client {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Client {
    pub async fn connect(wanet: &RunningWanet) -> Client {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(wanet.ca_pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tcp = TcpStream::connect(wanet.protocol_addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from(wanet::SERVER_NAME).unwrap();
        let tls = TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .expect("TLS handshake with wanet's CA");
        let (read_half, write_half) = tokio::io::split(tls);
        let (tx, frames) = mpsc::unbounded_channel();
        // Read in the background like a real client, so the server is never blocked on us.
        let reader = tokio::spawn(async move {
            let mut reader = FramedRead::new(read_half, FrameCodec::default());
            while let Some(Ok(frame)) = reader.next().await {
                if tx.send(Some(frame)).is_err() {
                    return;
                }
            }
            let _ = tx.send(None);
        });
        Client {
            sink: FramedWrite::new(write_half, FrameCodec::default()),
            frames,
            next_id: 0,
            pushes: VecDeque::new(),
            closed: false,
            reader,
        }
    }

    pub async fn send(&mut self, frame: Frame) {
        self.sink.send(frame).await.unwrap();
    }

    /// Bytes that are a well-framed but not a valid JSON frame.
    pub async fn send_garbage(&mut self) {
        let payload = b"{nope";
        let mut bytes = (payload.len() as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(payload);
        let raw = self.sink.get_mut();
        raw.write_all(&bytes).await.unwrap();
        raw.flush().await.unwrap();
    }

    /// The next frame, or `None` when the connection is closed.
    async fn recv(&mut self) -> Option<Frame> {
        if self.closed {
            return None;
        }
        let frame = tokio::time::timeout(WAIT, self.frames.recv())
            .await
            .expect("timed out waiting for a frame")
            .flatten();
        self.closed = frame.is_none();
        frame
    }

    pub async fn request(&mut self, request: Request) -> Result<Response, NetError> {
        self.next_id += 1;
        let id = self.next_id;
        self.send(Frame::Request { id, request }).await;
        loop {
            match self
                .recv()
                .await
                .expect("connection closed before the response")
            {
                Frame::Response { id: rid, result } if rid == id => return result,
                Frame::Push { id, push } => self.pushes.push_back((id, push)),
                _ => {}
            }
        }
    }

    pub async fn hello(&mut self, credentials: Option<Credentials>) -> Result<Response, NetError> {
        self.request(Request::Hello {
            client_version: "test".into(),
            credentials,
            scope: Default::default(),
        })
        .await
    }

    pub async fn request_code(
        &mut self,
        cc: &str,
        number: &str,
        method: &str,
        cert: &str,
    ) -> Result<Response, NetError> {
        self.request(Request::RequestCode {
            cc: cc.into(),
            phone_number: number.into(),
            method: method.into(),
            cert: cert.into(),
            pin: None,
        })
        .await
    }

    pub async fn register(
        &mut self,
        cc: &str,
        number: &str,
        code: &str,
    ) -> Result<Response, NetError> {
        self.request(Request::Register {
            cc: cc.into(),
            phone_number: number.into(),
            code: code.into(),
        })
        .await
    }

    pub async fn send_text(
        &mut self,
        id: &str,
        to: &str,
        body: &str,
    ) -> Result<Response, NetError> {
        self.request(Request::SendMessage {
            id: id.into(),
            to: to.into(),
            message: json!({ "type": "text", "text": { "body": body } }),
        })
        .await
    }

    /// The next push, without acknowledging it.
    pub async fn next_push(&mut self) -> (u64, Push) {
        if let Some(push) = self.pushes.pop_front() {
            return push;
        }
        loop {
            match self
                .recv()
                .await
                .expect("connection closed while waiting for a push")
            {
                Frame::Push { id, push } => return (id, push),
                _ => continue,
            }
        }
    }

    /// The next push, acknowledged as a coreapp does once it has persisted it.
    pub async fn next_push_acked(&mut self) -> Push {
        let (id, push) = self.next_push().await;
        self.send(Frame::Ack { id }).await;
        push
    }

    /// Acks every push up to and including `BacklogDone`; returns the pushes before it.
    pub async fn drain_backlog(&mut self) -> Vec<Push> {
        let mut backlog = Vec::new();
        loop {
            match self.next_push_acked().await {
                Push::BacklogDone => return backlog,
                push => backlog.push(push),
            }
        }
    }

    /// Acks pushes until the receipt of `message_id`, and returns it.
    pub async fn receipt_for(&mut self, message_id: &str) -> (ReceiptStatus, Option<NetError>) {
        loop {
            if let Push::Receipt {
                message_id: m,
                status,
                error,
                ..
            } = self.next_push_acked().await
            {
                if m == message_id {
                    return (status, error);
                }
            }
        }
    }

    pub async fn ping(&mut self, nonce: u64) -> u64 {
        self.send(Frame::Ping { nonce }).await;
        loop {
            match self
                .recv()
                .await
                .expect("connection closed while waiting for the pong")
            {
                Frame::Pong { nonce } => return nonce,
                Frame::Push { id, push } => self.pushes.push_back((id, push)),
                _ => {}
            }
        }
    }

    /// Waits until the server closes the connection (frames meanwhile are dropped).
    pub async fn wait_closed(&mut self) {
        while self.recv().await.is_some() {}
    }
}
