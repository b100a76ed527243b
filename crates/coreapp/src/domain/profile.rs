//! The business profile as the network sees it: values read from the database, and the pushes
//! that send the profile and the two-step PIN to the network on every change and after every
//! (re)connection, so the network converges on what the database holds.

use crate::network::NetClient;
use crate::state::CoreState;
use crate::util::failure::store_failure;
use base64::Engine;
use serde_json::{Map, Value};
use wa_api::keys::{BUSINESS_PROFILE, PROFILE_ABOUT, PROFILE_PHOTO_BLOB, TWO_STEP_PIN};
use wa_api::ApiError;
use wa_netproto::{BusinessProfile, Request, Response};

/// What a new WhatsApp account shows until the business sets its own.
const DEFAULT_ABOUT: &str = "Hey there! I am using WhatsApp.";

/// What a new WhatsApp account shows until the business sets its own.
pub fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub async fn get_value(state: &CoreState, key: &str) -> Result<Option<String>, ApiError> {
    state
        .store
        .get_config_value(key)
        .await
        .map_err(store_failure)
}

pub async fn put_value(state: &CoreState, key: &str, value: String) -> Result<(), ApiError> {
    state
        .store
        .put_config_value(key, value)
        .await
        .map_err(store_failure)
}

impl CoreState {
    pub async fn about(&self) -> Result<String, ApiError> {
        Ok(get_value(self, PROFILE_ABOUT)
            .await?
            .unwrap_or_else(|| DEFAULT_ABOUT.to_string()))
    }

    /// The stored business profile with every field present (empty when never set).
    pub async fn business_profile(&self) -> Result<Map<String, Value>, ApiError> {
        let stored = get_value(self, BUSINESS_PROFILE).await?;
        let mut profile = crate::domain::business::empty_business_profile();
        if let Some(Ok(Value::Object(saved))) = stored.map(|t| serde_json::from_str(&t)) {
            profile.extend(saved);
        }
        Ok(profile)
    }

    async fn network_profile(&self) -> Result<BusinessProfile, ApiError> {
        let photo = self
            .store
            .get_blob(PROFILE_PHOTO_BLOB)
            .await
            .map_err(store_failure)?;
        Ok(BusinessProfile {
            about: Some(self.about().await?),
            photo: photo.map(|bytes| encode(&bytes)),
            business: Value::Object(self.business_profile().await?),
        })
    }
}

/// Sends the profile and the two-step PIN on a fresh business session (after every connect).
/// A PIN is only ever pushed here, never its absence: an installation that re-registered a
/// number with its PIN (and so has none stored) must not switch the number's two-step off.
/// Turning it off is an explicit `DELETE`.
pub async fn push_all(state: &CoreState, client: &NetClient) {
    push_profile(state, client).await;
    match state.store.get_config_value(TWO_STEP_PIN).await {
        Ok(Some(_)) => push_two_step(state, client).await,
        Ok(None) => {}
        Err(e) => tracing::warn!("cannot read the two-step PIN to push it: {e}"),
    }
}

pub fn spawn_profile_push(state: std::sync::Arc<CoreState>) {
    crate::util::spawn_once("profile push", async move {
        if let Some(client) = state.session() {
            push_profile(&state, &client).await;
        }
    });
}

pub fn spawn_two_step_push(state: std::sync::Arc<CoreState>) {
    crate::util::spawn_once("two-step push", async move {
        if let Some(client) = state.session() {
            push_two_step(&state, &client).await;
        }
    });
}

/// Failures are logged only: the next connection pushes again. Pushes are serialised, each
/// reading the database when its turn comes, so the last one sent is always the newest profile.
async fn push_profile(state: &CoreState, client: &NetClient) {
    let _turn = state.profile_push.lock().await;
    let profile = match state.network_profile().await {
        Ok(profile) => profile,
        Err(e) => return tracing::warn!("cannot read the profile to push it: {e}"),
    };
    log_push(
        "profile",
        client.request(Request::SetProfile { profile }).await,
    );
}

async fn push_two_step(state: &CoreState, client: &NetClient) {
    let _turn = state.two_step_push.lock().await;
    let pin = match state.store.get_config_value(TWO_STEP_PIN).await {
        Ok(pin) => pin,
        Err(e) => return tracing::warn!("cannot read the two-step PIN to push it: {e}"),
    };
    log_push(
        "two-step setting",
        client.request(Request::SetTwoStep { pin }).await,
    );
}

fn log_push(what: &str, result: Result<Response, crate::network::SessionError>) {
    match result {
        Ok(_) => tracing::debug!("{what} pushed to the network"),
        Err(e) => tracing::info!(
            "{what} not pushed to the network yet ({e}); retried on the next connection"
        ),
    }
}
