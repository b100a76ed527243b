//! The coreapp's live state, shared by the RPC handlers, the network lifecycle, the inbound
//! processor, the delivery worker and the webhook dispatcher.

pub mod caches;
pub mod cluster;
pub mod settings;
pub mod stats;

use crate::network::NetClient;
use caches::{
    CapabilityCache, ConversationCache, FirstPartyPacks, RegisteredNumberCache, TemplateCache,
};
use settings::SettingsHandle;
use stats::CoreStats;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::Notify;
use wa_api::cloud::subscription::CloudWebhooks;
use wa_api::health::GatewayStatus;
use wa_api::webhooks::{CallbackKind, WebhookTarget};
use wa_common::config::CoreappSettings;
use wa_store::{NewCallback, Store};

pub struct CoreState {
    pub store: Store,
    pub settings: SettingsHandle,
    pub config: CoreappSettings,
    gateway: RwLock<GatewayStatus>,
    session: RwLock<Option<NetClient>>,
    ready: AtomicBool,
    /// The network refused the stored credentials: `POST /v1/account` must start a fresh
    /// registration, even for the number that is stored.
    credentials_refused: AtomicBool,
    /// The registration changed: the session must be re-established with the new credentials.
    pub registration_changed: Notify,
    /// New outbound messages are waiting, or sends finished and more can go.
    pub send_wake: Notify,
    /// Counts the moments a pause of sends after a 429 must end early: the network said the
    /// throttle is over (`SendingResumed`), or a new session is ready (a throttle lifted while
    /// disconnected was never announced to this coreapp; one send finds out).
    pub sending_resumed: tokio::sync::watch::Sender<u64>,
    /// New callbacks are queued.
    pub webhook_wake: Arc<Notify>,
    /// The same for the Cloud subscription's dispatcher.
    pub cloud_webhook_wake: Arc<Notify>,
    /// The in-memory statistics of `GET /v1/stats/app`.
    pub stats: Arc<CoreStats>,
    /// Open conversations, for the pricing block of status webhooks.
    pub conversations: ConversationCache,
    /// The registered number, read at most once a second (`account`).
    pub registered_number: RegisteredNumberCache,
    /// The message templates known from the network.
    pub templates: TemplateCache,
    /// What recipients' apps can display, as the network last said.
    pub capabilities: CapabilityCache,
    /// WhatsApp's sticker packs as last served by the network.
    pub first_party_packs: FirstPartyPacks,
    /// Serialises business-profile updates (read, merge, write) so partial updates never lose one.
    pub profile_writes: tokio::sync::Mutex<()>,
    /// One profile push, and one two-step push, at a time (read the database, then send).
    pub profile_push: tokio::sync::Mutex<()>,
    pub two_step_push: tokio::sync::Mutex<()>,
    /// The CA bundle webhooks trust besides the built-in roots; the dispatcher follows it.
    pub webhook_ca: tokio::sync::watch::Sender<Option<String>>,
    /// The Cloud API webhook subscription; new webhooks are queued for it while one exists, and
    /// the Cloud dispatcher follows it.
    pub cloud_webhooks: tokio::sync::watch::Sender<CloudWebhooks>,
    /// The shared media volume (`settings.media_dir`).
    pub media_dir: std::path::PathBuf,
    /// The one HTTP client fetching media `link`s (its connections are reused between sends).
    pub media_client: reqwest::Client,
    /// This node's place in a cluster (High Availability / Multiconnect); single by default.
    pub cluster: cluster::ClusterState,
}

/// Time limit of a whole media link download: a link that never answers cannot hold the API call
/// (and its sender) forever.
const LINK_DOWNLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

fn media_link_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(LINK_DOWNLOAD_TIMEOUT)
        .build()
        // Only a TLS backend that cannot start fails here; the default client then still works.
        .unwrap_or_default()
}

impl CoreState {
    pub fn new(
        store: Store,
        settings: SettingsHandle,
        config: CoreappSettings,
        stats: Arc<CoreStats>,
    ) -> Self {
        CoreState {
            store,
            settings,
            config,
            gateway: RwLock::new(GatewayStatus::Uninitialized),
            session: RwLock::new(None),
            ready: AtomicBool::new(false),
            credentials_refused: AtomicBool::new(false),
            registration_changed: Notify::new(),
            send_wake: Notify::new(),
            sending_resumed: tokio::sync::watch::Sender::new(0),
            webhook_wake: Arc::new(Notify::new()),
            cloud_webhook_wake: Arc::new(Notify::new()),
            stats,
            conversations: Default::default(),
            registered_number: Default::default(),
            templates: Default::default(),
            capabilities: Default::default(),
            first_party_packs: Default::default(),
            profile_writes: tokio::sync::Mutex::new(()),
            profile_push: tokio::sync::Mutex::new(()),
            two_step_push: tokio::sync::Mutex::new(()),
            webhook_ca: tokio::sync::watch::Sender::new(None),
            cloud_webhooks: tokio::sync::watch::Sender::new(CloudWebhooks::default()),
            media_dir: std::path::PathBuf::from("/usr/local/wamedia"),
            media_client: media_link_client(),
            cluster: cluster::ClusterState::single(),
        }
    }

    /// Takes part in a cluster as `cluster` says.
    pub fn with_cluster(mut self, cluster: cluster::ClusterState) -> Self {
        self.cluster = cluster;
        self
    }

    /// Self-fencing: stop sending at once (no shard, not ready, session closed).
    /// Publishes the stored webhook CA bundle to the dispatcher: at start, after a restore, and
    /// when this master becomes primary (the bundle may have been set on the previous one).
    pub async fn load_webhook_ca(&self) -> Result<(), wa_store::StoreError> {
        let pem = self
            .store
            .get_config_value(wa_api::keys::WEBHOOK_CA)
            .await?;
        self.webhook_ca.send_replace(pem);
        Ok(())
    }

    /// Publishes the stored Cloud webhook subscription when it differs from the current one: at
    /// start, after a restore, and at each cluster beat (another node may have changed it).
    pub async fn load_cloud_webhooks(&self) -> Result<(), wa_store::StoreError> {
        let stored = self
            .store
            .get_config_value(wa_api::keys::CLOUD_WEBHOOKS)
            .await?
            .map(|text| CloudWebhooks::parse(&text))
            .unwrap_or_default();
        self.cloud_webhooks.send_if_modified(|current| {
            let changed = *current != stored;
            *current = stored;
            changed
        });
        Ok(())
    }

    /// Webhooks were queued: both dispatchers look at once instead of at their next poll.
    pub fn wake_dispatchers(&self) {
        self.webhook_wake.notify_one();
        self.cloud_webhook_wake.notify_one();
    }

    /// A webhook of `kind` to queue: for the On-Prem target, and for the Cloud subscription
    /// while there is one and Cloud reports that kind.
    pub fn new_callback(
        &self,
        kind: CallbackKind,
        event_key: String,
        body: &serde_json::Value,
    ) -> NewCallback {
        NewCallback {
            event_key,
            kind: kind.as_str().to_string(),
            body: body.to_string(),
            cloud: self.cloud_webhooks.borrow().subscribed() && WebhookTarget::Cloud.reports(kind),
        }
    }

    pub fn fence(&self, why: &str) {
        self.set_ready(false);
        self.cluster.fence(why, self.session());
    }

    /// The media volume the webapp writes uploads to and inbound media are downloaded to.
    pub fn with_media_dir(mut self, media_dir: std::path::PathBuf) -> Self {
        self.media_dir = media_dir;
        self
    }

    pub fn gateway(&self) -> GatewayStatus {
        *self.gateway.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_gateway(&self, status: GatewayStatus) {
        let mut gateway = self.gateway.write().unwrap_or_else(|e| e.into_inner());
        if *gateway != status {
            tracing::info!("gateway status: {:?} -> {:?}", *gateway, status);
            *gateway = status;
            self.stats
                .set_gateway_connected(status == GatewayStatus::Connected);
        }
    }

    /// The current network session, anonymous or the business's.
    pub fn session(&self) -> Option<NetClient> {
        self.session
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .filter(|s| !s.is_closed())
    }

    pub fn set_session(&self, session: Option<NetClient>) {
        *self.session.write().unwrap_or_else(|e| e.into_inner()) = session;
    }

    /// Whether the network refused the stored credentials (until a new registration).
    pub fn credentials_refused(&self) -> bool {
        self.credentials_refused.load(Ordering::Acquire)
    }

    /// Records the refusal; true when it is news (the first refusal since the registration).
    pub fn set_credentials_refused(&self) -> bool {
        !self.credentials_refused.swap(true, Ordering::AcqRel)
    }

    /// True once the initialization sequence has finished on the current session.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release);
        if ready {
            self.resume_sending();
        }
    }

    /// Ends a pause of sends after a 429 and wakes the delivery worker.
    pub fn resume_sending(&self) {
        self.sending_resumed.send_modify(|n| *n = n.wrapping_add(1));
        self.send_wake.notify_one();
    }
}

impl CoreState {
    /// The registered business number (wa_id), if any.
    pub async fn registered_number(&self) -> Result<Option<String>, wa_api::ApiError> {
        if let Some((read_at, number)) = crate::util::lock(&self.registered_number.0).as_ref() {
            if read_at.elapsed() < caches::REGISTERED_NUMBER_TTL {
                return Ok(number.clone());
            }
        }
        let number = self
            .store
            .registration()
            .await
            .map_err(crate::util::failure::store_failure)?
            .map(|r| r.phone);
        *crate::util::lock(&self.registered_number.0) =
            Some((std::time::Instant::now(), number.clone()));
        Ok(number)
    }

    /// The registration was replaced: read it again next time, and reconnect with it.
    pub fn registration_replaced(&self) {
        self.credentials_refused.store(false, Ordering::Release);
        *crate::util::lock(&self.registered_number.0) = None;
        self.registration_changed.notify_one();
    }
}
