//! A webhook receiver for local use: point the business's `webhooks.url` at
//! `http://<control address>/control/webhooks` and every callback the coreapp posts is kept here
//! (the newest [`KEPT`]), readable with `GET /control/webhooks` and shown live by the admin
//! console. It answers 200, the only answer a webhook sender counts as delivered.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::Mutex;

/// How many bodies are kept; older ones are forgotten, so memory stays bounded.
pub const KEPT: usize = 500;
/// Largest body recorded (a webhook is a few kilobytes; a batch of 100 statuses still fits).
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// One webhook as received.
#[derive(Debug, Clone, Serialize)]
pub struct Received {
    /// Position in arrival order, from 1; `GET ?after=` takes the last one seen.
    pub seq: u64,
    /// Epoch milliseconds.
    pub received_at: i64,
    /// The path it was posted to, so several receivers can share the inbox by path.
    pub path: String,
    /// The body as JSON, or as a string when it is not JSON.
    pub body: Value,
}

#[derive(Default)]
pub struct WebhookInbox {
    inner: Mutex<Inbox>,
}

#[derive(Default)]
struct Inbox {
    next_seq: u64,
    kept: VecDeque<Received>,
}

impl WebhookInbox {
    fn record(&self, path: String, body: &[u8]) -> u64 {
        let body = serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
        let mut inbox = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inbox.next_seq += 1;
        let seq = inbox.next_seq;
        inbox.kept.push_back(Received {
            seq,
            received_at: crate::base::ids::now_epoch().saturating_mul(1000),
            path,
            body,
        });
        while inbox.kept.len() > KEPT {
            inbox.kept.pop_front();
        }
        seq
    }

    fn after(&self, seq: u64) -> (Vec<Received>, u64) {
        let inbox = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let newer = inbox.kept.iter().filter(|r| r.seq > seq).cloned().collect();
        (newer, inbox.next_seq)
    }

    fn clear(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .kept
            .clear();
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(["/control/webhooks", "/control/webhooks/{tail:.*}"])
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .route(web::post().to(receive))
            .route(web::get().to(list))
            .route(web::delete().to(clear)),
    );
}

async fn receive(
    req: HttpRequest,
    inbox: web::Data<WebhookInbox>,
    body: web::Bytes,
) -> HttpResponse {
    let seq = inbox.record(req.path().to_string(), &body);
    tracing::debug!(seq, path = req.path(), "webhook recorded");
    HttpResponse::Ok().json(json!({ "seq": seq }))
}

#[derive(Deserialize)]
struct After {
    #[serde(default)]
    after: u64,
}

/// The kept webhooks newer than `?after=` (all by default), oldest first, and the newest
/// sequence number to pass next time.
async fn list(inbox: web::Data<WebhookInbox>, query: web::Query<After>) -> HttpResponse {
    let (webhooks, last) = inbox.after(query.after);
    HttpResponse::Ok().json(json!({ "webhooks": webhooks, "last_seq": last }))
}

async fn clear(inbox: web::Data<WebhookInbox>) -> HttpResponse {
    inbox.clear();
    HttpResponse::Ok().json(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_bodies_in_order() {
        let inbox = WebhookInbox::default();
        for n in 0..(KEPT + 3) {
            inbox.record(
                "/control/webhooks".into(),
                format!("{{\"n\":{n}}}").as_bytes(),
            );
        }
        let (all, last) = inbox.after(0);
        assert_eq!(all.len(), KEPT);
        assert_eq!(last, (KEPT + 3) as u64);
        assert_eq!(all[0].body["n"], 3);
        let (newer, _) = inbox.after(last - 1);
        assert_eq!(newer.len(), 1);
        inbox.record("/control/webhooks/x".into(), b"not json");
        let (newest, _) = inbox.after(last);
        assert_eq!(newest[0].body, "not json");
        assert_eq!(newest[0].path, "/control/webhooks/x");
    }
}
