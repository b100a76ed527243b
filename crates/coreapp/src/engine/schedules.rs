//! The periodic work of the coreapp: the queue gauges, the template and sticker-pack refreshes and
//! the scheduled garbage collection. Each loop runs until the coreapp stops; the supervisor
//! restarts one that ends.

use crate::domain::{first_party_stickers, gc, templates};
use crate::state::stats::QUEUE_SAMPLE_INTERVAL;
use crate::state::CoreState;
use std::sync::Arc;
use std::time::Duration;

/// Keeps the queue gauges current.
pub async fn sample_queues(state: Arc<CoreState>) {
    let mut ticker = tokio::time::interval(QUEUE_SAMPLE_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let callbacks = state.store.pending_callback_count().await;
        let pending = state.store.pending_outbound_count().await;
        match (callbacks, pending) {
            (Ok(callbacks), Ok(pending)) => state.stats.set_queues(callbacks, pending),
            // Keep the last known values: a database hiccup must not open the overload gate.
            (Err(e), _) | (_, Err(e)) => tracing::debug!("cannot count the queues: {e}"),
        }
    }
}

/// Logs the stats line every `stats_log_interval_secs` (0: never).
pub async fn log_stats(state: Arc<CoreState>) {
    let secs = state.config.stats_log_interval_secs;
    if secs == 0 {
        return std::future::pending().await;
    }
    let mut ticker = tokio::time::interval(Duration::from_secs(secs));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        state.stats.log_summary(&state.store);
    }
}

/// Keeps the templates fresh while connected, so edits in WhatsApp Manager (the simulator's
/// control API) show up without a send having to miss first.
pub async fn refresh_templates(state: Arc<CoreState>) {
    let interval = Duration::from_secs(state.config.template_refresh_secs.max(1));
    loop {
        tokio::time::sleep(interval).await;
        if state.is_ready() && state.templates.is_stale(interval) {
            match templates::refresh(&state).await {
                Ok(count) => tracing::debug!("{count} message templates refreshed"),
                Err(e) => tracing::warn!("refreshing message templates failed: {e}"),
            }
        }
    }
}

/// Keeps the first-party sticker packs fresh while connected, so reads rarely wait for the
/// network.
pub async fn refresh_sticker_packs(state: Arc<CoreState>) {
    let interval = first_party_stickers::max_age(&state);
    loop {
        tokio::time::sleep(interval).await;
        if state.is_ready() && state.first_party_packs.is_stale(interval) {
            match first_party_stickers::refresh(&state).await {
                Ok(count) => tracing::debug!("{count} first-party sticker packs refreshed"),
                Err(e) => tracing::warn!("refreshing first-party sticker packs failed: {e}"),
            }
        }
    }
}

/// Runs the enabled collectors every `gc_interval_secs`. The setting `garbagecollector_enable`
/// is read at each run, so a PATCH applies from the next run. Scheduled runs log their result
/// instead of sending a webhook: nobody asked for them.
pub async fn collect_garbage(state: Arc<CoreState>) {
    let interval = Duration::from_secs(state.config.gc_interval_secs.max(1));
    loop {
        tokio::time::sleep(interval).await;
        forget_idempotency_keys(&state).await;
        let enabled = state.settings.current().garbagecollector_enable;
        if enabled.messages {
            match gc::collect_messages(&state).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!("scheduled message gc deleted {deleted} messages"),
                Err(e) => tracing::error!("scheduled message gc failed: {e}"),
            }
        }
        if enabled.media {
            match gc::collect_media(&state).await {
                (0, false) => {}
                (deleted, false) => tracing::info!("scheduled media gc deleted {deleted} files"),
                (deleted, true) => {
                    tracing::error!("scheduled media gc failed after deleting {deleted} files")
                }
            }
        }
    }
}

/// Idempotency keys older than their 24-hour window are dead weight whatever the garbage
/// collector settings say (they hold no user data a business might keep): always swept.
async fn forget_idempotency_keys(state: &CoreState) {
    let before = crate::util::now_ms() - wa_api::idempotency::WINDOW_MS;
    match state.store.delete_idempotency_keys_before(before).await {
        Ok(0) => {}
        Ok(n) => tracing::info!("forgot {n} idempotency keys older than 24 hours"),
        Err(e) => tracing::warn!("sweeping idempotency keys failed: {e}"),
    }
}
