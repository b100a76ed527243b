//! `PUT /v1/services/message/gc` and `PUT /v1/services/media/gc` (spec onprem-messaging §3.4,
//! §3.5): answered at once with `processing`; the collection runs in the background and reports
//! its result as a webhook through the durable outbox.
//!
//! The same collectors also run on their own every `gc_interval_secs` when the application
//! setting `garbagecollector_enable` (legacy `db_garbagecollector_enable` for messages) switches
//! them on. The setting is read at each run, so a PATCH applies from the next run, no restart.

use crate::rpc::store_failure;
use crate::CoreState;
use actix_web::{web, HttpResponse};
use serde_json::json;
use std::sync::Arc;
use wa_api::envelope::payload;
use wa_api::{ApiError, Meta};
use wa_store::NewCallback;

/// Messages and media unused for this long are collected (the documented 30 days).
const RETENTION_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// Rows deleted per transaction, so a large collection never holds long locks.
const BATCH: i64 = 1000;
/// Kind of the completion callbacks.
pub const SERVICES: &str = "services";

pub async fn message_gc(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    state.store.ping().await.map_err(store_failure)?;
    let state = state.into_inner();
    tokio::spawn(async move {
        let outcome = collect_messages(&state).await;
        let gc = match outcome {
            Ok(deleted) => json!({ "messages_deleted": deleted, "status": "complete" }),
            Err(e) => {
                tracing::error!("message garbage collection failed: {e}");
                json!({ "messages_deleted": 0, "status": "failed",
                        "errors": [{ "code": 1014, "details": "Could not delete messages" }] })
            }
        };
        report(&state, "message", gc).await;
    });
    Ok(processing("message"))
}

pub async fn media_gc(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    state.store.ping().await.map_err(store_failure)?;
    let state = state.into_inner();
    tokio::spawn(async move {
        let (deleted, failed) = collect_media(&state).await;
        let gc = if failed {
            json!({ "items_deleted": deleted, "status": "failed",
                    "errors": [{ "code": 1014, "details": "Could not delete media files" }] })
        } else {
            json!({ "items_deleted": deleted, "status": "complete" })
        };
        report(&state, "media", gc).await;
    });
    Ok(processing("media"))
}

/// Runs the enabled collectors every `gc_interval_secs`, for as long as the coreapp runs.
/// Scheduled runs log their result instead of sending a webhook: nobody asked for them.
pub async fn collect_periodically(state: Arc<CoreState>) {
    let interval = std::time::Duration::from_secs(state.config.gc_interval_secs.max(1));
    loop {
        tokio::time::sleep(interval).await;
        let enabled = state.settings.current().garbagecollector_enable;
        if enabled.messages {
            match collect_messages(&state).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!("scheduled message gc deleted {deleted} messages"),
                Err(e) => tracing::error!("scheduled message gc failed: {e}"),
            }
        }
        if enabled.media {
            match collect_media(&state).await {
                (0, false) => {}
                (deleted, false) => tracing::info!("scheduled media gc deleted {deleted} files"),
                (deleted, true) => {
                    tracing::error!("scheduled media gc failed after deleting {deleted} files")
                }
            }
        }
    }
}

fn processing(service: &str) -> HttpResponse {
    let body = json!({ service: { "gc": { "status": "processing" } } });
    HttpResponse::Ok().json(payload("services", body, Meta::current_coreapp()))
}

async fn collect_messages(state: &CoreState) -> Result<usize, wa_store::StoreError> {
    let cutoff = crate::messages::now_ms() - RETENTION_MS;
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
async fn collect_media(state: &CoreState) -> (usize, bool) {
    let cutoff = (crate::messages::now_ms() - RETENTION_MS) / 1000;
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

async fn report(state: &Arc<CoreState>, service: &str, gc: serde_json::Value) {
    let body = json!({ "services": [ { service: { "gc": gc } } ] });
    let callback = NewCallback {
        event_key: format!("gc:{service}:{}", uuid::Uuid::new_v4()),
        kind: SERVICES.to_string(),
        body: body.to_string(),
    };
    if let Err(e) = state.store.enqueue_callback(callback).await {
        tracing::error!("queuing the {service} gc webhook failed: {e}");
    }
    state.webhook_wake.notify_one();
}
