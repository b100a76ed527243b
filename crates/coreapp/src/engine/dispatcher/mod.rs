//! The webhook dispatcher: drains the durable callback outbox (`wa_store` `callbacks`) to
//! `webhooks.url` (spec onprem-messaging §7.2), and, as a second dispatcher on the same code, the
//! rows queued for the Cloud API subscription to its callback in Cloud's envelope (`target`).
//!
//! - Nothing is posted while the URL is empty; the queue is kept.
//! - At most `webhooks.max_concurrent_requests` POSTs are in flight. Each runs in its own task, so
//!   a slow or dead receiver only ever holds its own slots; callers just enqueue and wake us.
//! - Only HTTP 200 is success (the row is deleted). Anything else, including other 2xx, redirects
//!   (never followed), timeouts and refused connections, reschedules the row with exponential
//!   back-off from `callback_backoff_delay_ms`, capped at `max_callback_backoff_delay_ms`, forever.
//! - Settings changes (URL, concurrency, back-off) apply to the next POST, without a restart.

mod post;

pub(crate) use post::describe as describe_transport_error;
mod target;

pub use post::backoff_delay;

use crate::state::CoreState;
use post::{now_ms, Delivery, Settling};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use target::{Target, TargetContext};

use tokio::sync::{watch, Notify};
use tokio::task::{JoinError, JoinHandle, JoinSet};
use wa_api::cloud::subscription::CloudWebhooks;
use wa_api::settings::ApplicationSettings;
use wa_api::webhooks::WebhookTarget;
use wa_store::{PendingCallback, Store};

use crate::state::settings::SettingsHandle;
use crate::state::stats::CoreStats;

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

/// The coreapp's On-Prem dispatcher, run by the supervisor until shutdown: the state's store,
/// settings, statistics and webhook CA bundle. In a cluster it starts each time this master
/// becomes primary: the settings and the CA bundle are read from the database first, since the
/// previous primary may have changed them (other nodes follow the settings only at their next
/// beat).
pub async fn run_for(state: Arc<CoreState>) {
    run_target(state, WebhookTarget::OnPrem).await
}

/// The Cloud subscription's dispatcher, run like [`run_for`].
pub async fn run_cloud_for(state: Arc<CoreState>) {
    run_target(state, WebhookTarget::Cloud).await
}

async fn run_target(state: Arc<CoreState>, kind: WebhookTarget) {
    if state.cluster.enabled {
        if let Err(e) = state.settings.refresh(&state.store).await {
            tracing::warn!("webhook dispatcher: reading the settings failed: {e}");
        }
        if let Err(e) = state.load_webhook_ca().await {
            tracing::warn!("webhook dispatcher: reading the webhook CA bundle failed: {e}");
        }
        if let Err(e) = state.load_cloud_webhooks().await {
            tracing::warn!("webhook dispatcher: reading the Cloud subscription failed: {e}");
        }
    }
    let app_secret = match crate::domain::cloud_webhooks::app_secret(&state.store).await {
        Ok(secret) => secret,
        Err(e) => {
            // The supervisor starts the task again; nothing is sent unsigned meanwhile.
            tracing::warn!("webhook dispatcher: reading the app secret failed: {e}");
            return;
        }
    };
    let wake = match kind {
        WebhookTarget::OnPrem => state.webhook_wake.clone(),
        WebhookTarget::Cloud => state.cloud_webhook_wake.clone(),
    };
    match Dispatcher::new(
        state.store.clone(),
        &state.settings,
        wake,
        DispatcherOptions::default(),
    ) {
        Ok(mut dispatcher) => {
            dispatcher.kind = kind;
            dispatcher.stats = Some(state.stats.clone());
            dispatcher.webhook_ca = Some(state.webhook_ca.subscribe());
            dispatcher.subscription = Some(Subscription {
                changes: state.cloud_webhooks.subscribe(),
                app_secret: Arc::from(app_secret.into_bytes()),
                state: state.clone(),
            });
            dispatcher.run().await
        }
        Err(error) => {
            tracing::error!("webhook dispatcher cannot start, no webhook will be sent: {error}")
        }
    }
}

/// What the coreapp's dispatchers follow besides the settings: the Cloud subscription, the app
/// secret, and (for the Cloud envelope) the registered number.
struct Subscription {
    changes: watch::Receiver<CloudWebhooks>,
    app_secret: Arc<[u8]>,
    state: Arc<CoreState>,
}

pub struct Dispatcher {
    /// Which rows this dispatcher drains, and in which shape it posts them.
    kind: WebhookTarget,
    /// `None` for a dispatcher made without a coreapp state (tests): On-Prem, unsigned.
    subscription: Option<Subscription>,
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
            kind: WebhookTarget::OnPrem,
            subscription: None,
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
        let context = self.context().await;
        let Some(target) = Target::of(self.kind, &self.settings.borrow_and_update(), &context)
        else {
            // Nowhere to post: what was read ahead is read again once there is (a subscription
            // that ended has had its rows dropped; they must not go to the next one).
            self.ready.clear();
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

    async fn context(&mut self) -> TargetContext {
        let Some(subscription) = self.subscription.as_mut() else {
            return TargetContext::default();
        };
        let business = match self.kind {
            WebhookTarget::Cloud => subscription.state.registered_number().await.ok().flatten(),
            WebhookTarget::OnPrem => None,
        };
        TargetContext {
            subscription: subscription.changes.borrow_and_update().clone(),
            app_secret: Some(subscription.app_secret.clone()),
            business,
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
        match self
            .store
            .due_callbacks(self.kind, now_ms(), READ_AHEAD, busy)
            .await
        {
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
