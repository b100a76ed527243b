//! Messages that gave up waiting for the network: templates past their `ttl` fail with 410
//! `Message expired`, other types pending longer than `max_pending_message_age_secs` with 408
//! `Message is not valid` (spec onprem-messaging §2.7). The delivery worker sweeps for them and
//! checks each message again right before handing it over, so none goes out late.

use crate::state::CoreState;
use crate::util::now_ms;
use serde_json::Value;
use wa_api::status::MessageStatus;
use wa_netproto::NetError;
use wa_store::OutboundMessage;

/// How often the delivery worker looks for messages that gave up.
pub const EXPIRY_SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Fails pending messages past their expiry (never one being handed over right now): templates
/// with 410 `Message expired`, others with 408 `Message is not valid` (spec §2.7).
pub async fn fail_expired(state: &CoreState, exclude: Vec<String>) {
    // In a cluster each shard's holder gives up on its own shard's messages only.
    let Some(shard) = state.cluster.sending_scope().filter() else {
        return;
    };
    let expired = match state
        .store
        .expired_outbound(now_ms(), 1000, exclude, shard)
        .await
    {
        Ok(expired) => expired,
        Err(e) => return tracing::warn!("looking for expired messages failed: {e}"),
    };
    for message in &expired {
        give_up(state, message).await;
    }
}

/// Templates have a ttl; everything else gives up after the longest wait for the network.
fn is_template(message: &OutboundMessage) -> bool {
    matches!(message.msg_type.as_str(), "template" | "hsm")
}

/// The expiry as the send stored it (the database column holds the same instant).
pub fn has_expired(state: &CoreState, message: &OutboundMessage) -> bool {
    let now = now_ms();
    if is_template(message) {
        let payload: Value = serde_json::from_str(&message.payload).unwrap_or(Value::Null);
        let expires_at = payload.get("expires_at").and_then(Value::as_i64);
        return expires_at.is_some_and(|at| now / 1000 > at);
    }
    let max_age_ms = state
        .config
        .max_pending_message_age_secs
        .saturating_mul(1000);
    now >= message.created_ms.saturating_add(max_age_ms)
}

/// Fails a message that expired before reaching the network: 410 for templates, 408 otherwise.
pub async fn give_up(state: &CoreState, message: &OutboundMessage) {
    let error = if is_template(message) {
        NetError::new(410, "Message expired")
    } else {
        NetError::new(408, "Message is not valid")
    };
    tracing::info!(
        "message {} gave up: {} {}",
        message.id,
        error.code,
        error.title
    );
    let recorded = crate::engine::status::record_status(
        state,
        &message.id,
        &message.to,
        MessageStatus::Failed,
        now_ms() / 1000,
        Some(error),
    );
    if let Err(e) = recorded.await {
        tracing::error!("recording the expiry of {} failed: {e}", message.id);
    }
    state.wake_dispatchers();
}
