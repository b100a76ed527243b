//! What the network pushes: consumers' messages and the receipts of ours. Each is stored together
//! with its webhook in one transaction *before* it is acknowledged, so a crash at any point makes
//! the network send it again and nothing is lost (design.md §3, invariant 2).

use crate::network::{IncomingPush, NetClient};
use crate::CoreState;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use wa_api::webhooks;
use wa_netproto::{NetError, Push, ReceiptStatus};
use wa_store::{InboundMessage, NewCallback, StatusOutcome, StoreError};

/// Kind of the callbacks this module queues (also the `type` label of callback statistics).
pub const INBOUND_MESSAGE: &str = "inbound_message";
pub const STATUS_CHANGE: &str = "status_change";

/// Pushes are stored by this many concurrent lanes. One push at a time capped the inbound rate at
/// one commit per message; concurrent stores share commits (`wa_store`'s group commit).
const LANES: usize = 32;

/// Work for one lane: a push to store, or a barrier answered once everything before it is stored.
enum LaneWork {
    Push(IncomingPush),
    Barrier(oneshot::Sender<()>),
}

/// Handles pushes until the session ends. Pushes with the same key (the consumer of an inbound
/// message, the message of a receipt) go to the same lane and keep their order: a consumer's
/// messages are queued as webhooks in the order sent, a message's `delivered` before its `read`.
/// Each push is acknowledged only once stored. `drained` fires at the end-of-backlog marker, when
/// every push before it is stored.
pub async fn process(
    state: Arc<CoreState>,
    client: NetClient,
    mut pushes: mpsc::Receiver<IncomingPush>,
    drained: oneshot::Sender<()>,
) {
    let lanes: Vec<mpsc::Sender<LaneWork>> = (0..LANES)
        .map(|_| {
            let (tx, rx) = mpsc::channel(64);
            tokio::spawn(run_lane(state.clone(), client.clone(), rx));
            tx
        })
        .collect();
    let mut drained = Some(drained);
    while let Some(incoming) = pushes.recv().await {
        match &incoming.push {
            Push::BacklogDone => {
                if !all_stored(&lanes).await {
                    break;
                }
                if let Some(tx) = drained.take() {
                    tracing::info!("offline backlog drained");
                    let _ = tx.send(());
                }
                if client.ack(incoming.id).await.is_err() {
                    break;
                }
            }
            push => {
                if let Push::Inbound { .. } = push {
                    state.stats.inbound_from_server();
                }
                let lane = &lanes[lane_of(push)];
                if lane.send(LaneWork::Push(incoming)).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// Waits until every lane has stored what it was given so far; false when a lane has stopped.
async fn all_stored(lanes: &[mpsc::Sender<LaneWork>]) -> bool {
    let mut answers = Vec::with_capacity(lanes.len());
    for lane in lanes {
        let (tx, rx) = oneshot::channel();
        if lane.send(LaneWork::Barrier(tx)).await.is_err() {
            return false;
        }
        answers.push(rx);
    }
    for answer in answers {
        if answer.await.is_err() {
            return false;
        }
    }
    true
}

fn lane_of(push: &Push) -> usize {
    use std::hash::{Hash, Hasher};
    let key = match push {
        Push::Inbound { from, .. } => from.as_str(),
        Push::Receipt { message_id, .. } => message_id.as_str(),
        Push::BacklogDone => "",
    };
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    // The remainder is below LANES, so it fits any usize.
    usize::try_from(hasher.finish() % LANES as u64).unwrap_or(0)
}

/// Stores and acknowledges one lane's pushes in order. Stops when the session ends; what was not
/// acknowledged is sent again on the next session.
async fn run_lane(state: Arc<CoreState>, client: NetClient, mut work: mpsc::Receiver<LaneWork>) {
    while let Some(item) = work.recv().await {
        match item {
            LaneWork::Barrier(done) => {
                let _ = done.send(());
            }
            LaneWork::Push(IncomingPush { id, push }) => {
                if !store_until_done(&state, &client, id, &push).await {
                    return;
                }
                state.webhook_wake.notify_one();
                if client.ack(id).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Stores one push, retrying while the database is unavailable: order is kept and nothing is
/// acknowledged before it is stored. False when the session ended meanwhile (the network will
/// send the push again on the next one).
async fn store_until_done(state: &CoreState, client: &NetClient, id: u64, push: &Push) -> bool {
    let mut pause = RETRY_FIRST;
    loop {
        match store_push(state, client, push).await {
            Ok(()) => return true,
            Err(e) => tracing::error!("storing push {id} failed, retrying in {pause:?}: {e}"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RETRY_MAX);
        if client.is_closed() {
            return false;
        }
    }
}

const RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(100);
const RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(5);

/// Why a push could not be stored yet; either way it is retried.
#[derive(Debug, thiserror::Error)]
enum PushError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("downloading its media: {0}")]
    Network(#[from] crate::network::SessionError),
}

async fn store_push(state: &CoreState, client: &NetClient, push: &Push) -> Result<(), PushError> {
    match push.clone() {
        Push::Inbound {
            id,
            from,
            profile_name,
            timestamp,
            message,
        } => {
            let mut message = message;
            crate::media::receive_inbound_media(state, client, &id, &mut message).await?;
            crate::identity::on_inbound(state, &from, &mut message).await?;
            Ok(store_inbound(state, &id, &from, &profile_name, timestamp, message).await?)
        }
        Push::Receipt {
            message_id,
            recipient,
            status,
            timestamp,
            error,
        } => Ok(store_receipt(state, &message_id, &recipient, status, timestamp, error).await?),
        Push::BacklogDone => Ok(()),
    }
}

async fn store_inbound(
    state: &CoreState,
    id: &str,
    from: &str,
    profile_name: &str,
    timestamp: i64,
    message: serde_json::Value,
) -> Result<(), StoreError> {
    let message = webhooks::supported_inbound(message);
    let msg_type = message["type"].as_str().unwrap_or("unknown").to_string();
    let body = webhooks::inbound_message(from, profile_name, id, timestamp, &message);
    let callback = NewCallback {
        event_key: format!("inbound:{id}"),
        kind: INBOUND_MESSAGE.to_string(),
        body: body.to_string(),
    };
    let msg = InboundMessage {
        id: id.to_string(),
        from: from.to_string(),
        msg_type,
        payload: message.to_string(),
        received_ms: timestamp.saturating_mul(1000),
    };
    let new = state.store.insert_inbound(msg, callback).await?;
    if new {
        state.stats.inbound_persisted();
    } else {
        tracing::debug!("inbound message {id} was already stored");
    }
    Ok(())
}

async fn store_receipt(
    state: &CoreState,
    message_id: &str,
    recipient: &str,
    status: ReceiptStatus,
    timestamp: i64,
    error: Option<NetError>,
) -> Result<(), StoreError> {
    let status = match status {
        ReceiptStatus::Delivered => "delivered",
        ReceiptStatus::Read => "read",
        ReceiptStatus::Failed => "failed",
        ReceiptStatus::Warning => "warning",
    };
    // A receipt proves the network accepted the message. If the coreapp crashed before it
    // recorded that answer, the message is still pending: record `sent` first, or its webhook
    // would never come (the message is not re-sent once it has moved on).
    if status != "failed" {
        record_status(state, message_id, recipient, "sent", timestamp, None).await?;
    }
    let outcome = if status == "warning" {
        record_warning(state, message_id, recipient, timestamp, error).await?
    } else {
        record_status(state, message_id, recipient, status, timestamp, error).await?
    };
    if outcome == StatusOutcome::UnknownMessage {
        tracing::warn!("receipt '{status}' for unknown message {message_id} ignored");
    }
    Ok(())
}

/// Records `status` with its webhook when status webhooks of that kind are enabled.
pub async fn record_status(
    state: &CoreState,
    message_id: &str,
    recipient: &str,
    status: &str,
    timestamp: i64,
    error: Option<NetError>,
) -> Result<StatusOutcome, StoreError> {
    let callback = if state.settings.current().status_webhook_enabled(status) {
        let body = status_body(state, message_id, recipient, status, timestamp, error).await?;
        Some(status_callback(message_id, status, body))
    } else {
        None
    };
    let outcome = state
        .store
        .record_status(message_id, status, callback)
        .await?;
    if outcome == StatusOutcome::Advanced {
        state.stats.status_recorded(status);
    }
    Ok(outcome)
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
    if !state.settings.current().status_webhook_enabled("warning") {
        return Ok(StatusOutcome::NotNewer);
    }
    let code = error.as_ref().map_or(0, |e| e.code);
    let errors = error.map(|e| serde_json::json!([e]));
    let body = webhooks::status(message_id, recipient, "warning", timestamp, None, errors);
    let callback = NewCallback {
        event_key: format!("status:{message_id}:warning:{code}"),
        kind: STATUS_CHANGE.to_string(),
        body: body.to_string(),
    };
    state.store.enqueue_callback(callback).await?;
    Ok(StatusOutcome::Advanced)
}

pub fn status_callback(message_id: &str, status: &str, body: serde_json::Value) -> NewCallback {
    NewCallback {
        event_key: format!("status:{message_id}:{status}"),
        kind: STATUS_CHANGE.to_string(),
        body: body.to_string(),
    }
}

/// The status webhook; sent, delivered and read carry the conversation and pricing, failed its
/// errors.
pub async fn status_body(
    state: &CoreState,
    message_id: &str,
    recipient: &str,
    status: &str,
    timestamp: i64,
    error: Option<NetError>,
) -> Result<serde_json::Value, StoreError> {
    if status == "failed" {
        let errors = error.map(|e| serde_json::json!([e]));
        return Ok(webhooks::status(
            message_id, recipient, status, timestamp, None, errors,
        ));
    }
    let conversation = crate::conversations::current(state, recipient, timestamp).await?;
    Ok(webhooks::status(
        message_id,
        recipient,
        status,
        timestamp,
        Some(&conversation),
        None,
    ))
}
