//! The Cloud API webhook subscription's stored parts: the app secret that signs the bodies
//! (generated once per installation, sealed at rest) and the subscription itself.

use wa_api::cloud::subscription::CloudWebhooks;
use wa_api::keys::{CLOUD_APP_SECRET, CLOUD_WEBHOOKS};
use wa_store::{Store, StoreError};

/// The installation's app secret: 32 random bytes in hex, made by the first process that asks.
pub async fn app_secret(store: &Store) -> Result<String, StoreError> {
    let bytes: [u8; 32] = rand::random();
    let fresh: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    store.get_or_insert_secret(CLOUD_APP_SECRET, fresh).await
}

/// Saves `subscription` for every process (they follow it at start and at each cluster beat).
pub async fn save(store: &Store, subscription: &CloudWebhooks) -> Result<(), StoreError> {
    let text = serde_json::to_string(subscription)
        .map_err(|e| StoreError::Query(format!("cannot encode the subscription: {e}")))?;
    store.put_config_value(CLOUD_WEBHOOKS, text).await
}
