//! One POST of one queued webhook, and the outbox update that records its outcome.

use super::target::Target;
use crate::state::stats::{CallbackResult, CoreStats};
use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use wa_api::cloud::webhooks::{signature, SIGNATURE_HEADER};
use wa_store::{PendingCallback, Store};

/// A receiver's answer is read (so the connection can be reused) up to this size, then dropped.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// One POST of one callback, and the outbox update that records its outcome.
pub(super) struct Delivery {
    pub http: reqwest::Client,
    pub store: Store,
    pub target: Target,
    pub callback: PendingCallback,
    pub stats: Option<Arc<CoreStats>>,
    pub settling: Settling,
}

/// Ids of delivered callbacks whose delete is still on its way to the database.
#[derive(Clone, Default)]
pub(super) struct Settling(Arc<Mutex<HashSet<i64>>>);

impl Settling {
    fn lock(&self) -> MutexGuard<'_, HashSet<i64>> {
        // A set of ids; a panic elsewhere cannot leave it half-changed.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn ids(&self) -> Vec<i64> {
        self.lock().iter().copied().collect()
    }

    /// Deletes the delivered callback `id` in the background. The delivery slot is free at once:
    /// holding it for the delete's commit, not for the POST, capped the webhook rate. Until the
    /// delete is committed the id is kept out of the outbox reads, so it is not posted again;
    /// if the delete fails, the row is simply delivered again later (at-least-once).
    fn forget_delivered(&self, store: Store, id: i64) {
        self.lock().insert(id);
        let settling = self.clone();
        tokio::spawn(async move {
            if let Err(error) = store.delete_callback(id).await {
                tracing::warn!(
                    callback_id = id,
                    "webhook delivered but not removed from the outbox, it will be sent again: {error}"
                );
            }
            settling.lock().remove(&id);
        });
    }
}

/// Why a POST did not count as delivered.
enum PostFailure {
    Status(StatusCode),
    /// No HTTP answer; the text says why, without the URL.
    Transport(String),
}

impl Delivery {
    pub async fn run(self) {
        let id = self.callback.id;
        let Some(body) = self.target.body(&self.callback.kind, &self.callback.body) else {
            tracing::warn!(
                callback_id = id,
                "a queued webhook has no {:?} form; dropped",
                self.target.kind
            );
            self.settling.forget_delivered(self.store.clone(), id);
            return;
        };
        let in_flight = self.stats.as_ref().map(CoreStats::callback_in_flight);
        let started = std::time::Instant::now();
        let outcome = self.post(body).await;
        drop(in_flight);
        if let Some(stats) = &self.stats {
            let result = match &outcome {
                Ok(()) => CallbackResult::Success,
                Err(PostFailure::Status(status)) => CallbackResult::Status(status.as_u16()),
                Err(PostFailure::Transport(_)) => CallbackResult::TransportError,
            };
            stats.callback_posted(&self.callback.kind, result, started.elapsed());
        }
        match outcome {
            Ok(()) => self.settling.forget_delivered(self.store.clone(), id),
            Err(PostFailure::Status(status)) => {
                self.reschedule(format!("HTTP status {}", status.as_u16()))
                    .await
            }
            Err(PostFailure::Transport(reason)) => self.reschedule(reason).await,
        }
    }

    /// Ok only for HTTP 200; the error says why not, without the URL (which may carry a secret).
    async fn post(&self, body: String) -> Result<(), PostFailure> {
        let mut request = self
            .http
            .post(&self.target.url)
            .header(CONTENT_TYPE, "application/json");
        if let Some(secret) = &self.target.secret {
            request = request.header(SIGNATURE_HEADER, signature(secret, body.as_bytes()));
        }
        let mut response = request
            .body(body)
            .send()
            .await
            .map_err(|error| PostFailure::Transport(describe(&error)))?;
        let status = response.status();
        let mut read = 0;
        while let Ok(Some(chunk)) = response.chunk().await {
            read += chunk.len();
            if read > MAX_RESPONSE_BYTES {
                break;
            }
        }
        if status == StatusCode::OK {
            Ok(())
        } else {
            Err(PostFailure::Status(status))
        }
    }

    async fn reschedule(&self, reason: String) {
        let id = self.callback.id;
        let attempt = self.callback.attempts.saturating_add(1);
        let (first, cap) = self.target.backoff;
        let delay = backoff_delay(first, cap, attempt);
        let delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
        tracing::warn!(
            callback_id = id,
            attempt,
            retry_in_ms = delay_ms,
            "webhook delivery failed: {reason}"
        );
        let next_attempt_ms = now_ms().saturating_add(delay_ms);
        if let Err(error) = self
            .store
            .reschedule_callback(id, attempt, next_attempt_ms, reason)
            .await
        {
            tracing::warn!(
                callback_id = id,
                "cannot reschedule the webhook, it will be retried at once: {error}"
            );
        }
    }
}

/// The wait after the `attempt`-th failure (1-based): `first × 2^(attempt-1)`, at most `cap`.
pub fn backoff_delay(first: Duration, cap: Duration, attempt: i32) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0);
    1u32.checked_shl(doublings)
        .and_then(|factor| first.checked_mul(factor))
        .map_or(cap, |delay| delay.min(cap))
}

/// A transport failure in words: timeout, refused connection, ... with its causes, and without
/// the URL (which may carry credentials). Every webhook request of the coreapp (the outbox's, the
/// test webhook's, the Cloud callback's verification) reports its failures this way.
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut text = kind.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Milliseconds since the Unix epoch, the outbox's clock.
pub(super) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_first_delay_up_to_the_cap() {
        let (first, cap) = (Duration::from_millis(3000), Duration::from_millis(900_000));
        let delays: Vec<u128> = (1..=10)
            .map(|attempt| backoff_delay(first, cap, attempt).as_millis())
            .collect();
        assert_eq!(
            delays,
            [3000, 6000, 12000, 24000, 48000, 96000, 192000, 384000, 768000, 900000]
        );
        assert_eq!(backoff_delay(first, cap, i32::MAX), cap);
        assert_eq!(backoff_delay(first, cap, 0), first);
        assert_eq!(backoff_delay(first, cap, -3), first);
        // A cap below the first delay wins.
        assert_eq!(
            backoff_delay(first, Duration::from_millis(1000), 1),
            Duration::from_millis(1000)
        );
        assert_eq!(
            backoff_delay(
                Duration::from_millis(86_400_000),
                Duration::from_millis(86_400_000),
                40
            ),
            Duration::from_millis(86_400_000)
        );
    }
}
