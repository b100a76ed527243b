//! The garbage collectors of messages and media older than the retention period, run on demand
//! (`api::gc`) and on a schedule (`engine::schedules`), and the webhook reporting a requested run.

use crate::state::CoreState;
use crate::util::now_ms;
use serde_json::json;
use std::sync::Arc;
use wa_api::webhooks::CallbackKind;
use wa_store::NewCallback;

/// Messages and media unused for this long are collected (the documented 30 days).
const RETENTION_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// Rows deleted per transaction, so a large collection never holds long locks.
const BATCH: i64 = 1000;

pub async fn collect_messages(state: &CoreState) -> Result<usize, wa_store::StoreError> {
    let cutoff = now_ms() - RETENTION_MS;
    let mut total = 0;
    loop {
        let deleted = state.store.delete_old_messages(cutoff, BATCH).await?;
        total += deleted;
        if (deleted as i64) < BATCH {
            return Ok(total);
        }
    }
}

/// Deletes media not used for the retention period: the row first, then the file. Returns how
/// many went and whether anything failed.
pub async fn collect_media(state: &CoreState) -> (usize, bool) {
    let cutoff = (now_ms() - RETENTION_MS) / 1000;
    let mut deleted = 0;
    loop {
        let ids = match state.store.unused_media(cutoff, BATCH).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::error!("media garbage collection failed: {e}");
                return (deleted, true);
            }
        };
        let batch_len = ids.len();
        for id in ids {
            let removed = state.store.delete_media(&id).await;
            let file = wa_common::media::remove_file(&state.media_dir, &id).await;
            if removed.is_err() || file.is_err() {
                tracing::error!("deleting media {id} failed: {removed:?} {file:?}");
                return (deleted, true);
            }
            deleted += 1;
        }
        if (batch_len as i64) < BATCH {
            return (deleted, false);
        }
    }
}

pub async fn report(state: &Arc<CoreState>, service: &str, gc: serde_json::Value) {
    let body = json!({ "services": [ { service: { "gc": gc } } ] });
    let callback = NewCallback {
        event_key: format!("gc:{service}:{}", uuid::Uuid::new_v4()),
        kind: CallbackKind::Services.as_str().to_string(),
        body: body.to_string(),
        cloud: false,
    };
    if let Err(e) = state.store.enqueue_callback(callback).await {
        tracing::error!("queuing the {service} gc webhook failed: {e}");
    }
    state.wake_dispatchers();
}
