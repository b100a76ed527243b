//! The webhook receiver: a bare hyper HTTP/1.1 server that answers 200 at once and only counts.
//! It keeps the arrival time of every `sent` status (to measure accepted → sent webhook) and
//! counters for the rest, so it costs far less than what it measures.

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// Only the fields the bench looks at; everything else in the body is skipped by serde.
#[derive(Deserialize)]
struct Webhook {
    #[serde(default)]
    statuses: Vec<Status>,
    #[serde(default)]
    messages: Vec<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    status: String,
}

#[derive(Default)]
pub struct Counters {
    pub bodies: AtomicU64,
    pub inbound: AtomicU64,
    pub sent: AtomicU64,
    pub delivered: AtomicU64,
    pub read: AtomicU64,
    pub failed: AtomicU64,
    pub unparsable: AtomicU64,
}

#[derive(Default)]
struct Times {
    /// Arrival of the `sent` webhook per message id.
    sent_at: HashMap<String, Instant>,
    /// Messages that ended `failed` (no `sent` will come for them).
    failed: HashSet<String>,
    last_inbound: Option<Instant>,
    last_any: Option<Instant>,
}

#[derive(Clone)]
pub struct Receiver {
    pub port: u16,
    pub counters: Arc<Counters>,
    times: Arc<Mutex<Times>>,
}

impl Receiver {
    pub async fn start() -> Result<Receiver> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("bind the webhook receiver")?;
        let port = listener.local_addr()?.port();
        let receiver = Receiver {
            port,
            counters: Arc::default(),
            times: Arc::default(),
        };
        let serving = receiver.clone();
        tokio::spawn(async move { serving.serve(listener).await });
        Ok(receiver)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/webhook", self.port)
    }

    pub fn count(&self, counter: fn(&Counters) -> &AtomicU64) -> u64 {
        counter(&self.counters).load(Ordering::Relaxed)
    }

    pub fn sent_at(&self, id: &str) -> Option<Instant> {
        self.times().sent_at.get(id).copied()
    }

    pub fn last_inbound(&self) -> Option<Instant> {
        self.times().last_inbound
    }

    /// How many of `ids` have their `sent` (or `failed`) webhook in.
    pub fn resolved<'a>(&self, ids: impl Iterator<Item = &'a str>) -> usize {
        let times = self.times();
        ids.filter(|id| times.sent_at.contains_key(*id) || times.failed.contains(*id))
            .count()
    }

    /// Forgets recorded statuses (between phases, so the maps do not grow without end).
    pub fn clear_sent_times(&self) {
        let mut times = self.times();
        times.sent_at.clear();
        times.failed.clear();
    }

    /// Waits until no webhook arrived for `quiet`, or `limit` passed; true when quiet.
    pub async fn wait_quiet(&self, quiet: Duration, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let last = self.times().last_any;
            if last.is_none_or(|at| at.elapsed() >= quiet) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn times(&self) -> MutexGuard<'_, Times> {
        self.times
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn serve(self, listener: TcpListener) {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: say so, back off, keep serving.
                    eprintln!("webhook receiver: accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let receiver = self.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let receiver = receiver.clone();
                    async move { receiver.handle(request).await }
                });
                // A connection the dispatcher drops is not the bench's problem.
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }

    async fn handle(
        &self,
        request: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        let body = match request.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => Bytes::new(),
        };
        self.record(&body);
        Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
    }

    fn record(&self, body: &[u8]) {
        let now = Instant::now();
        let counters = &self.counters;
        counters.bodies.fetch_add(1, Ordering::Relaxed);
        let Ok(hook) = serde_json::from_slice::<Webhook>(body) else {
            counters.unparsable.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let mut times = self.times();
        times.last_any = Some(now);
        if !hook.messages.is_empty() {
            counters
                .inbound
                .fetch_add(hook.messages.len() as u64, Ordering::Relaxed);
            times.last_inbound = Some(now);
        }
        for status in hook.statuses {
            let counter = match status.status.as_str() {
                "sent" => {
                    times.sent_at.insert(status.id, now);
                    &counters.sent
                }
                "delivered" => &counters.delivered,
                "read" => &counters.read,
                _ => {
                    times.failed.insert(status.id);
                    &counters.failed
                }
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }
}
