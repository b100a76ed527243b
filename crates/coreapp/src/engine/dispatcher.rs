//! The webhook dispatcher: drains the durable callback outbox (`wa_store` `callbacks`) to
//! `webhooks.url` (spec onprem-messaging §7.2).
//!
//! - Nothing is posted while the URL is empty; the queue is kept.
//! - At most `webhooks.max_concurrent_requests` POSTs are in flight. Each runs in its own task, so
//!   a slow or dead receiver only ever holds its own slots; callers just enqueue and wake us.
//! - Only HTTP 200 is success (the row is deleted). Anything else, including other 2xx, redirects
//!   (never followed), timeouts and refused connections, reschedules the row with exponential
//!   back-off from `callback_backoff_delay_ms`, capped at `max_callback_backoff_delay_ms`, forever.
//! - Settings changes (URL, concurrency, back-off) apply to the next POST, without a restart.

use crate::state::CoreState;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;
use tokio::sync::{watch, Notify};
use tokio::task::{JoinError, JoinHandle, JoinSet};
use wa_api::settings::ApplicationSettings;
use wa_store::{PendingCallback, Store};

use crate::state::settings::SettingsHandle;
use crate::state::stats::{CallbackResult, CoreStats};

/// A receiver's answer is read (so the connection can be reused) up to this size, then dropped.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct DispatcherOptions {
    /// Whole-request limit for one POST; a receiver slower than this counts as failed.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// How often the outbox is checked for retries that became due, when nothing wakes us sooner.
    pub poll_interval: Duration,
}

impl Default for DispatcherOptions {
    fn default() -> Self {
        DispatcherOptions {
            request_timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(10),
            poll_interval: Duration::from_millis(250),
        }
    }
}

/// Starts the dispatcher on the current tokio runtime. Call `wake.notify_one()` after enqueueing
/// callbacks so they go out at once instead of at the next poll. Abort the handle to stop it;
/// POSTs in flight are then dropped and their rows delivered again later (at-least-once).
pub fn spawn_dispatcher(
    store: Store,
    settings: SettingsHandle,
    wake: Arc<Notify>,
    options: DispatcherOptions,
) -> JoinHandle<()> {
    spawn_dispatcher_with_stats(store, settings, wake, options, None, None)
}

/// [`spawn_dispatcher`], counting every POST in `stats` (`callback_requests`, their durations,
/// `pending_callbacks`), trusting the PEM bundle `webhook_ca` holds in addition to the built-in
/// roots (`/v1/certificates/webhooks/ca`); a new bundle applies to the next POST.
pub fn spawn_dispatcher_with_stats(
    store: Store,
    settings: SettingsHandle,
    wake: Arc<Notify>,
    options: DispatcherOptions,
    stats: Option<Arc<CoreStats>>,
    webhook_ca: Option<watch::Receiver<Option<String>>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        match Dispatcher::new(store, &settings, wake, options) {
            Ok(mut dispatcher) => {
                dispatcher.stats = stats;
                dispatcher.webhook_ca = webhook_ca;
                dispatcher.run().await
            }
            Err(error) => {
                tracing::error!("webhook dispatcher cannot start, no webhook will be sent: {error}")
            }
        }
    })
}

/// The coreapp's dispatcher, run by the supervisor until shutdown: the state's store, settings,
/// statistics and webhook CA bundle. In a cluster it starts each time this master becomes
/// primary: the settings and the CA bundle are read from the database first, since the previous
/// primary may have changed them (other nodes follow the settings only at their next beat).
pub async fn run_for(state: Arc<CoreState>) {
    if state.cluster.enabled {
        if let Err(e) = state.settings.refresh(&state.store).await {
            tracing::warn!("webhook dispatcher: reading the settings failed: {e}");
        }
        if let Err(e) = state.load_webhook_ca().await {
            tracing::warn!("webhook dispatcher: reading the webhook CA bundle failed: {e}");
        }
    }
    match Dispatcher::new(
        state.store.clone(),
        &state.settings,
        state.webhook_wake.clone(),
        DispatcherOptions::default(),
    ) {
        Ok(mut dispatcher) => {
            dispatcher.stats = Some(state.stats.clone());
            dispatcher.webhook_ca = Some(state.webhook_ca.subscribe());
            dispatcher.run().await
        }
        Err(error) => {
            tracing::error!("webhook dispatcher cannot start, no webhook will be sent: {error}")
        }
    }
}

/// Where and how the next POSTs go, taken from the settings each round.
#[derive(Clone)]
struct Target {
    url: String,
    max_in_flight: usize,
    backoff: (Duration, Duration),
}

impl Target {
    fn of(settings: &ApplicationSettings) -> Option<Target> {
        Some(Target {
            url: settings.webhook_url()?.to_string(),
            max_in_flight: settings.max_concurrent_callbacks(),
            backoff: settings.callback_backoff(),
        })
    }
}

pub struct Dispatcher {
    store: Store,
    settings: watch::Receiver<ApplicationSettings>,
    /// False once the settings sender is gone (cannot happen while a handle lives; never spin).
    settings_open: bool,
    wake: Arc<Notify>,
    options: DispatcherOptions,
    http: reqwest::Client,
    deliveries: JoinSet<()>,
    /// Callback id of each delivery task, so a row is never posted twice at once.
    in_flight: HashMap<tokio::task::Id, i64>,
    /// Delivered callbacks whose delete is not committed yet: not read again meanwhile.
    settling: Settling,
    stats: Option<Arc<CoreStats>>,
    /// The extra CA bundle; the client is rebuilt when it changes.
    webhook_ca: Option<watch::Receiver<Option<String>>>,
    /// Due callbacks read ahead of the free slots, oldest first: one outbox query per batch
    /// instead of one per delivery (the query per delivery capped the webhook rate).
    ready: VecDeque<PendingCallback>,
    /// When the outbox was last read, and whether a read is due but held back until
    /// [`MIN_READ_INTERVAL`] has passed.
    last_read: Option<tokio::time::Instant>,
    read_held_back: bool,
}

/// How many due callbacks one outbox query reads ahead.
const READ_AHEAD: i64 = 256;
/// Shortest time between two outbox reads. Every stored message wakes the dispatcher; reading
/// at each wake cost one query per webhook (two thirds of the database's statements in an
/// inbound burst). Waiting this long lets a read collect what arrived meanwhile, at a few
/// milliseconds of added latency.
const MIN_READ_INTERVAL: Duration = Duration::from_millis(5);

/// The webhook HTTP client: never follows redirects; trusts the built-in roots plus `extra_ca`.
pub fn webhook_client(
    options: &DispatcherOptions,
    extra_ca: Option<&str>,
) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(options.request_timeout)
        .connect_timeout(options.connect_timeout);
    if let Some(pem) = extra_ca {
        for cert in reqwest::Certificate::from_pem_bundle(pem.as_bytes())? {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build()
}

impl Dispatcher {
    pub fn new(
        store: Store,
        settings: &SettingsHandle,
        wake: Arc<Notify>,
        options: DispatcherOptions,
    ) -> Result<Dispatcher, reqwest::Error> {
        let http = webhook_client(&options, None)?;
        Ok(Dispatcher {
            store,
            settings: settings.subscribe(),
            settings_open: true,
            wake,
            options,
            http,
            deliveries: JoinSet::new(),
            in_flight: HashMap::new(),
            settling: Settling::default(),
            stats: None,
            webhook_ca: None,
            ready: VecDeque::new(),
            last_read: None,
            read_held_back: false,
        })
    }

    /// Runs until the task is aborted.
    pub async fn run(mut self) {
        loop {
            self.start_due_deliveries().await;
            self.wait_for_work().await;
        }
    }

    /// Fills the free delivery slots with the oldest due callbacks.
    async fn start_due_deliveries(&mut self) {
        self.follow_webhook_ca();
        let Some(target) = Target::of(&self.settings.borrow_and_update()) else {
            return;
        };
        if self.in_flight.len() >= target.max_in_flight {
            return;
        }
        self.read_held_back = false;
        if self.ready.is_empty() {
            if self.next_read_at() > tokio::time::Instant::now() {
                self.read_held_back = true;
                return;
            }
            self.read_due().await;
        }
        while self.in_flight.len() < target.max_in_flight {
            let Some(callback) = self.ready.pop_front() else {
                break;
            };
            self.start(&target, callback);
        }
    }

    fn next_read_at(&self) -> tokio::time::Instant {
        self.last_read
            .map_or_else(tokio::time::Instant::now, |last| last + MIN_READ_INTERVAL)
    }

    async fn read_due(&mut self) {
        self.last_read = Some(tokio::time::Instant::now());
        let mut busy: Vec<i64> = self.in_flight.values().copied().collect();
        busy.extend(self.settling.ids());
        match self.store.due_callbacks(now_ms(), READ_AHEAD, busy).await {
            Ok(due) => self.ready.extend(due),
            Err(error) => tracing::warn!("webhook dispatcher cannot read the outbox: {error}"),
        }
    }

    /// Rebuilds the client when the CA bundle changed; POSTs in flight finish with the old one.
    fn follow_webhook_ca(&mut self) {
        let Some(ca) = self.webhook_ca.as_mut() else {
            return;
        };
        if !ca.has_changed().unwrap_or(false) {
            return;
        }
        let pem = ca.borrow_and_update().clone();
        match webhook_client(&self.options, pem.as_deref()) {
            Ok(http) => {
                self.http = http;
                tracing::info!(
                    "webhook client rebuilt ({} extra CA bundle)",
                    if pem.is_some() {
                        "with the"
                    } else {
                        "without an"
                    }
                );
            }
            Err(error) => tracing::error!("the webhook CA bundle cannot be used: {error}"),
        }
    }

    fn start(&mut self, target: &Target, callback: PendingCallback) {
        let id = callback.id;
        let delivery = Delivery {
            http: self.http.clone(),
            store: self.store.clone(),
            target: target.clone(),
            callback,
            stats: self.stats.clone(),
            settling: self.settling.clone(),
        };
        let task = self.deliveries.spawn(delivery.run());
        self.in_flight.insert(task.id(), id);
    }

    /// Sleeps until a delivery finishes, callbacks are enqueued, the settings change or the poll
    /// interval passes, whichever comes first.
    async fn wait_for_work(&mut self) {
        let poll = if self.read_held_back {
            tokio::time::sleep_until(self.next_read_at())
        } else {
            tokio::time::sleep(self.options.poll_interval)
        };
        tokio::select! {
            Some(finished) = self.deliveries.join_next_with_id(), if !self.deliveries.is_empty() => {
                self.finished(finished);
            }
            () = self.wake.notified(), if !self.read_held_back => {}
            changed = self.settings.changed(), if self.settings_open => {
                self.settings_open = changed.is_ok();
            }
            () = poll => {}
        }
    }

    fn finished(&mut self, outcome: Result<(tokio::task::Id, ()), JoinError>) {
        let task = match outcome {
            Ok((task, ())) => task,
            Err(error) => {
                // The row is untouched, so it will simply be attempted again.
                tracing::error!("webhook delivery task failed: {error}");
                error.id()
            }
        };
        self.in_flight.remove(&task);
    }
}

/// One POST of one callback, and the outbox update that records its outcome.
struct Delivery {
    http: reqwest::Client,
    store: Store,
    target: Target,
    callback: PendingCallback,
    stats: Option<Arc<CoreStats>>,
    settling: Settling,
}

/// Ids of delivered callbacks whose delete is still on its way to the database.
#[derive(Clone, Default)]
struct Settling(Arc<Mutex<HashSet<i64>>>);

impl Settling {
    fn lock(&self) -> MutexGuard<'_, HashSet<i64>> {
        // A set of ids; a panic elsewhere cannot leave it half-changed.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn ids(&self) -> Vec<i64> {
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
    async fn run(self) {
        let id = self.callback.id;
        let in_flight = self.stats.as_ref().map(CoreStats::callback_in_flight);
        let started = std::time::Instant::now();
        let outcome = self.post().await;
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
    async fn post(&self) -> Result<(), PostFailure> {
        let mut response = self
            .http
            .post(&self.target.url)
            .header(CONTENT_TYPE, "application/json")
            .body(self.callback.body.clone())
            .send()
            .await
            .map_err(|error| PostFailure::Transport(describe(error)))?;
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
/// the URL.
fn describe(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut text = kind.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn now_ms() -> i64 {
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
