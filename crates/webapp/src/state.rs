//! What every handler can reach: the store, the settings, the token keys and the limiters.

use crate::coreapp::CoreappClient;
use crate::limiter::WindowLimiter;
use jsonwebtoken::{DecodingKey, EncodingKey};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;
use wa_common::config::TrustedProxies;
use wa_common::Settings;
use wa_store::Store;

pub struct AppState {
    pub store: Store,
    pub settings: Settings,
    pub jwt: JwtKeys,
    pub failed_logins: WindowLimiter,
    pub user_changes: WindowLimiter,
    pub coreapp: CoreappClient,
    /// Set in cluster mode (High Availability / Multiconnect): where each call goes.
    pub cluster: Option<crate::cluster::Cluster>,
    /// Whose `X-Forwarded-For` names the client (see `client_addr`).
    pub trusted_proxies: TrustedProxies,
    /// A bcrypt hash at the configured cost that no password matches: a login for an unknown
    /// user is verified against it, so it takes as long as a login for a real one.
    unknown_user_hash: String,
    /// How many bcrypt verifications logins ran: one per login that got as far as a username,
    /// known or not (the in-process tests count them to show both cost the same).
    pub password_checks: AtomicU64,
    /// Tokens found live a moment ago (see `token_cache`).
    pub tokens: crate::token_cache::TokenCache,
}

pub struct JwtKeys {
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
}

impl JwtKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn new(store: Store, settings: Settings, jwt: JwtKeys) -> Result<Self, reqwest::Error> {
        let web = &settings.webapp;
        let unknown_user_hash = unmatchable_hash(web.bcrypt_cost);
        Ok(AppState {
            failed_logins: WindowLimiter::new(
                web.failed_logins_max,
                Duration::from_secs(web.failed_logins_window_secs),
            ),
            user_changes: WindowLimiter::new(
                web.user_changes_max,
                Duration::from_secs(web.user_changes_window_secs),
            ),
            coreapp: CoreappClient::new(web)?,
            // Checked by the settings validation at start; a list that got past it trusts no one.
            trusted_proxies: TrustedProxies::parse(&web.trusted_proxies).unwrap_or_default(),
            cluster: crate::cluster::Cluster::from_settings(&store, &settings),
            store,
            settings,
            jwt,
            unknown_user_hash,
            password_checks: AtomicU64::new(0),
            tokens: Default::default(),
        })
    }

    /// See `unknown_user_hash`.
    pub fn unknown_user_hash(&self) -> &str {
        &self.unknown_user_hash
    }
}

/// The hash of a random password nobody knows, made once at start.
fn unmatchable_hash(cost: u32) -> String {
    let random: [u8; 16] = rand::random();
    let password: String = random.iter().map(|b| format!("{b:02x}")).collect();
    // Only an out-of-range cost fails, and the settings were validated at start.
    bcrypt::hash(password, cost).unwrap_or_default()
}

impl AppState {
    /// Calls an endpoint of the coreapp, on the node of the cluster that answers it when there
    /// is a cluster (the route table says which).
    pub async fn call(
        &self,
        endpoint: wa_api::rpc::Endpoint,
        body: Option<&serde_json::Value>,
    ) -> Result<crate::coreapp::Forwarded, wa_api::ApiError> {
        let Some(cluster) = &self.cluster else {
            return self.coreapp.call(endpoint, body).await;
        };
        let route = endpoint.route();
        let target = crate::cluster::target_of(route.method, route.path, body);
        let method = crate::coreapp::http_method(route.method);
        cluster
            .forward(&self.coreapp, target, method, route.path, body)
            .await
    }
}
