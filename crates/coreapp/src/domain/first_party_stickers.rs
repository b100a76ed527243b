//! WhatsApp's first-party sticker packs (spec onprem-stickerpacks §4), cached like the message
//! templates: loaded at initialization, fetched again when older than `template_refresh_secs`,
//! and served from the cache while the network is unreachable. Only before the first load do
//! reads answer 1011, as the original client did while it had nothing to show.

use crate::network::NetClient;
use crate::rpc::not_ready;
use crate::CoreState;
use serde_json::Value;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use wa_api::ApiError;
use wa_netproto::{Request, Response};

#[derive(Default)]
pub struct FirstPartyPacks {
    inner: RwLock<Option<Loaded>>,
}

struct Loaded {
    packs: Vec<Value>,
    at: Instant,
}

impl FirstPartyPacks {
    /// Replaces the cached packs with what the network served.
    pub fn replace(&self, packs: Vec<Value>) -> usize {
        let count = packs.len();
        let mut cached = self.inner.write().unwrap_or_else(|e| e.into_inner());
        *cached = Some(Loaded {
            packs,
            at: Instant::now(),
        });
        count
    }

    /// The cached packs, `None` before the first load.
    pub fn snapshot(&self) -> Option<Vec<Value>> {
        let cached = self.inner.read().unwrap_or_else(|e| e.into_inner());
        cached.as_ref().map(|loaded| loaded.packs.clone())
    }

    fn is_stale(&self, max_age: Duration) -> bool {
        let cached = self.inner.read().unwrap_or_else(|e| e.into_inner());
        cached
            .as_ref()
            .is_none_or(|loaded| loaded.at.elapsed() >= max_age)
    }
}

/// Asks the network for its packs over `client` (also used during initialization, before the
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

async fn refresh(state: &CoreState) -> Result<usize, String> {
    let session = state
        .session()
        .filter(|_| state.is_ready())
        .ok_or("not connected to the network")?;
    Ok(state.first_party_packs.replace(fetch(&session).await?))
}

fn max_age(state: &CoreState) -> Duration {
    Duration::from_secs(state.config.template_refresh_secs.max(1))
}

/// Keeps the packs fresh while connected, so reads rarely wait for the network.
pub async fn refresh_periodically(state: Arc<CoreState>) {
    let interval = max_age(&state);
    loop {
        tokio::time::sleep(interval).await;
        if state.is_ready() && state.first_party_packs.is_stale(interval) {
            match refresh(&state).await {
                Ok(count) => tracing::debug!("{count} first-party sticker packs refreshed"),
                Err(e) => tracing::warn!("refreshing first-party sticker packs failed: {e}"),
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
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
