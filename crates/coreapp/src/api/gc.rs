//! `PUT /v1/services/message/gc` and `PUT /v1/services/media/gc` (spec onprem-messaging §3.4,
//! §3.5): answered at once with `processing`; the collection runs in the background and reports
//! its result as a webhook through the durable outbox.
//!
//! The same collectors (`domain::gc`) also run on their own every `gc_interval_secs` when the
//! application setting `garbagecollector_enable` (legacy `db_garbagecollector_enable` for
//! messages) switches them on (`engine::schedules`).

use crate::domain::gc::{collect_media, collect_messages, report};
use crate::state::CoreState;
use crate::util::failure::store_failure;
use crate::util::spawn_once;
use actix_web::{web, HttpResponse};
use serde_json::json;
use wa_api::envelope::payload;
use wa_api::{ApiError, Meta};

pub async fn message_gc(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    state.store.ping().await.map_err(store_failure)?;
    let state = state.into_inner();
    spawn_once("message gc", async move {
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
    spawn_once("media gc", async move {
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

fn processing(service: &str) -> HttpResponse {
    let body = json!({ service: { "gc": { "status": "processing" } } });
    HttpResponse::Ok().json(payload("services", body, Meta::current_coreapp()))
}
