//! WhatsApp's first-party sticker packs (spec onprem-stickerpacks §4), cached like the message
//! templates: loaded at initialization, fetched again when older than `template_refresh_secs`,
//! and served from the cache while the network is unreachable. Only before the first load do
//! reads answer 1011, as the original client did while it had nothing to show.

use crate::network::NetClient;
use crate::state::CoreState;
use crate::util::failure::not_ready;
use serde_json::Value;
use std::time::Duration;
use wa_api::ApiError;
use wa_netproto::{Request, Response};

/// coreapp counts as ready).
pub async fn fetch(client: &NetClient) -> Result<Vec<Value>, String> {
    match client.request(Request::GetStickerPacks).await {
        Ok(Response::StickerPacks { packs }) => Ok(packs),
        Ok(other) => Err(format!(
            "unexpected answer to the sticker pack request: {other:?}"
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Loads the packs into the cache over the initializing session.
pub async fn load(state: &CoreState, client: &NetClient) {
    match fetch(client).await {
        Ok(packs) => {
            let count = state.first_party_packs.replace(packs);
            tracing::info!("initializing: {count} first-party sticker packs loaded");
        }
        Err(e) => tracing::warn!("loading first-party sticker packs failed: {e}"),
    }
}

pub async fn refresh(state: &CoreState) -> Result<usize, String> {
    let session = state
        .session()
        .filter(|_| state.is_ready())
        .ok_or("not connected to the network")?;
    Ok(state.first_party_packs.replace(fetch(&session).await?))
}

pub fn max_age(state: &CoreState) -> Duration {
    Duration::from_secs(state.config.template_refresh_secs.max(1))
}

/// The packs to answer with: refreshed first when stale and connected, else the cached ones.
pub async fn packs(state: &CoreState) -> Result<Vec<Value>, ApiError> {
    if state.is_ready() && state.first_party_packs.is_stale(max_age(state)) {
        if let Err(e) = refresh(state).await {
            tracing::debug!("first-party sticker packs served from the cache: {e}");
        }
    }
    state
        .first_party_packs
        .snapshot()
        .ok_or_else(|| not_ready("first-party sticker packs"))
}

/// Whether `sticker_id` names a sticker of one of the network's first-party packs.
pub async fn is_first_party_sticker(state: &CoreState, sticker_id: &str) -> Result<bool, ApiError> {
    Ok(packs(state)
        .await?
        .iter()
        .flat_map(stickers_of)
        .any(|sticker| sticker["id"] == sticker_id))
}

/// The stickers of one pack as served.
pub fn stickers_of(pack: &Value) -> Vec<Value> {
    pack["stickers"].as_array().cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::caches::FirstPartyPacks;
    use serde_json::json;

    #[test]
    fn the_cache_is_empty_and_stale_until_loaded() {
        let cache = FirstPartyPacks::default();
        assert!(cache.snapshot().is_none());
        assert!(cache.is_stale(Duration::from_secs(60)));
        assert_eq!(cache.replace(vec![json!({"id": "whatsapp-komo"})]), 1);
        assert_eq!(cache.snapshot(), Some(vec![json!({"id": "whatsapp-komo"})]));
        assert!(!cache.is_stale(Duration::from_secs(60)));
        assert!(cache.is_stale(Duration::ZERO));
    }
}
