//! Recording what happened to an outbound message: one status at a time, forward only (a late
//! `delivered` never overwrites `read`), each with its webhook queued in the same transaction. The
//! send's answer (`engine::delivery`), the network's receipts (`engine::inbound`) and expiry
//! (`engine::expiry`) all come here.

use crate::state::CoreState;
use wa_api::status::MessageStatus;
use wa_api::webhooks::{self, CallbackKind};
use wa_netproto::{NetError, ReceiptStatus};
use wa_store::{NewCallback, StatusOutcome, StoreError};

pub async fn store_receipt(
    state: &CoreState,
    message_id: &str,
    recipient: &str,
    status: ReceiptStatus,
    timestamp: i64,
    error: Option<NetError>,
) -> Result<(), StoreError> {
    let status = match status {
        ReceiptStatus::Delivered => MessageStatus::Delivered,
        ReceiptStatus::Read => MessageStatus::Read,
        ReceiptStatus::Failed => MessageStatus::Failed,
        ReceiptStatus::Warning => MessageStatus::Warning,
    };
    if status == MessageStatus::Warning {
        let outcome = record_warning(state, message_id, recipient, timestamp, error).await?;
        warn_if_unknown(outcome, status, message_id);
        return Ok(());
    }
    // As a receipt: a message not recorded as `sent` yet is left alone (`NotSentYet`).
    let step = Step {
        message_id,
        recipient,
        status,
        timestamp,
    };
    let mut outcome = record(state, step, error.clone(), true).await?;
    if outcome == StatusOutcome::NotSentYet {
        // A receipt (a `failed` one too: refusals come as the send's answer, receipts only after
        // an acceptance) proves the network accepted the message, but its `sent` is not recorded
        // yet: the coreapp stopped before it recorded that answer, or the receipt overtook the
        // answer's commit. Record `sent` first, or its webhook would never come.
        record_status(
            state,
            message_id,
            recipient,
            MessageStatus::Sent,
            timestamp,
            None,
        )
        .await?;
        outcome = record_status(state, message_id, recipient, status, timestamp, error).await?;
    }
    warn_if_unknown(outcome, status, message_id);
    Ok(())
}

fn warn_if_unknown(outcome: StatusOutcome, status: MessageStatus, message_id: &str) {
    if outcome == StatusOutcome::UnknownMessage {
        tracing::warn!("receipt '{status}' for unknown message {message_id} ignored");
    }
}

/// Records `status` with its webhook when status webhooks of that kind are enabled.
pub async fn record_status(
    state: &CoreState,
    message_id: &str,
    recipient: &str,
    status: MessageStatus,
    timestamp: i64,
    error: Option<NetError>,
) -> Result<StatusOutcome, StoreError> {
    let step = Step {
        message_id,
        recipient,
        status,
        timestamp,
    };
    record(state, step, error, false).await
}

/// One status of one message.
struct Step<'a> {
    message_id: &'a str,
    recipient: &'a str,
    status: MessageStatus,
    timestamp: i64,
}

async fn record(
    state: &CoreState,
    step: Step<'_>,
    error: Option<NetError>,
    receipt: bool,
) -> Result<StatusOutcome, StoreError> {
    let Step {
        message_id,
        recipient,
        status,
        timestamp,
    } = step;
    let errors = match (&error, status) {
        (Some(error), MessageStatus::Failed) => Some(webhook_errors(error.clone()).to_string()),
        _ => None,
    };
    let callback = status_webhook(state, message_id, recipient, status, timestamp, error).await?;
    let store = &state.store;
    let outcome = match errors {
        // Kept with the message so `GET /v1/messages/{id}` can say why, webhook or not.
        Some(errors) => {
            store
                .record_failure(message_id, callback, errors, receipt)
                .await?
        }
        None if receipt => {
            store
                .record_receipt(message_id, status.as_str(), callback)
                .await?
        }
        None => {
            store
                .record_status(message_id, status.as_str(), callback)
                .await?
        }
    };
    count_advance(state, outcome, status);
    Ok(outcome)
}

async fn status_webhook(
    state: &CoreState,
    message_id: &str,
    recipient: &str,
    status: MessageStatus,
    timestamp: i64,
    error: Option<NetError>,
) -> Result<Option<NewCallback>, StoreError> {
    if !state.settings.current().status_webhook_enabled(status) {
        return Ok(None);
    }
    let body = status_body(state, message_id, recipient, status, timestamp, error).await?;
    let key = format!("status:{message_id}:{status}");
    Ok(Some(state.new_callback(
        CallbackKind::StatusChange,
        key,
        &body,
    )))
}

fn count_advance(state: &CoreState, outcome: StatusOutcome, status: MessageStatus) {
    if outcome == StatusOutcome::Advanced {
        state.stats.status_recorded(status.as_str());
    }
}

/// A `warning` (spec Appendix B.3: part of the message could not go, e.g. some products of a
/// list) is reported without moving the message's status: `sent`, `delivered` and `read` still
/// follow. Keyed per message and error code, so a receipt pushed again while its webhook is
/// still queued is not queued twice.
async fn record_warning(
    state: &CoreState,
    message_id: &str,
    recipient: &str,
    timestamp: i64,
    error: Option<NetError>,
) -> Result<StatusOutcome, StoreError> {
    if state.store.find_message(message_id).await?.is_none() {
        return Ok(StatusOutcome::UnknownMessage);
    }
    if !state
        .settings
        .current()
        .status_webhook_enabled(MessageStatus::Warning)
    {
        return Ok(StatusOutcome::NotNewer);
    }
    let code = error.as_ref().map_or(0, |e| e.code);
    let errors = error.map(webhook_errors);
    let body = webhooks::status(
        message_id,
        recipient,
        MessageStatus::Warning,
        timestamp,
        None,
        errors,
    );
    let key = format!("status:{message_id}:warning:{code}");
    let callback = state.new_callback(CallbackKind::StatusChange, key, &body);
    state.store.enqueue_callback(callback).await?;
    Ok(StatusOutcome::Advanced)
}

/// The status webhook; sent, delivered and read carry the conversation and pricing, failed its
/// errors.
pub async fn status_body(
    state: &CoreState,
    message_id: &str,
    recipient: &str,
    status: MessageStatus,
    timestamp: i64,
    error: Option<NetError>,
) -> Result<serde_json::Value, StoreError> {
    if status == MessageStatus::Failed {
        let errors = error.map(webhook_errors);
        return Ok(webhooks::status(
            message_id, recipient, status, timestamp, None, errors,
        ));
    }
    let conversation =
        crate::domain::conversations::current(state, recipient, timestamp, status).await?;
    Ok(webhooks::status(
        message_id,
        recipient,
        status,
        timestamp,
        Some(&conversation),
        None,
    ))
}

/// The `errors` of a status webhook: the network's code, title and details, as the original
/// reported them (nothing else of the network's error, such as its retry hint).
fn webhook_errors(error: NetError) -> serde_json::Value {
    let mut entry = serde_json::json!({ "code": error.code, "title": error.title });
    if let Some(details) = error.details {
        entry["details"] = details.into();
    }
    serde_json::json!([entry])
}
