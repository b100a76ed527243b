//! What the network pushes: consumers' messages and the receipts of ours. Each is stored together
//! with its webhook in one transaction *before* it is acknowledged, so a crash at any point makes
//! the network send it again and nothing is lost (design.md §3, invariant 2).

use crate::engine::status::store_receipt;
use crate::network::{IncomingPush, NetClient};
use crate::state::CoreState;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use wa_api::cloud::webhooks::template_status_value;
use wa_api::webhooks::{self, CallbackKind};
use wa_netproto::Push;
use wa_store::{InboundMessage, NewCallback, StoreError};

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
            Push::TemplateStatus {
                namespace,
                name,
                language,
                status,
            } => {
                let template = TemplateKey {
                    namespace,
                    name,
                    language,
                };
                if template_status(&state, incoming.id, &template, status)
                    .await
                    .is_err()
                {
                    break;
                }
                if client.ack(incoming.id).await.is_err() {
                    break;
                }
            }
            Push::SendingResumed { reason } => {
                tracing::info!(
                    "the network ended this number's throttling ({reason:?}); sending resumes"
                );
                state.resume_sending();
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

struct TemplateKey<'a> {
    namespace: &'a str,
    name: &'a str,
    language: &'a str,
}

/// A template's review ended or its status changed: the template cache is refreshed, and a
/// subscribed Cloud integration gets `message_template_status_update`. `Err` when the webhook
/// could not be stored: the push is then not acknowledged, and the network sends it again.
async fn template_status(
    state: &Arc<CoreState>,
    push_id: u64,
    template: &TemplateKey<'_>,
    status: &str,
) -> Result<(), ()> {
    let TemplateKey {
        namespace,
        name,
        language,
    } = *template;
    tracing::info!("the network set template {name} ({language}) to {status}");
    // Not awaited here: the answer to the refresh arrives on the session this loop drains.
    let refreshing = state.clone();
    tokio::spawn(async move {
        if let Err(e) = crate::domain::templates::refresh(&refreshing).await {
            tracing::warn!("refreshing the templates after a status change failed: {e}");
        }
    });
    let body = template_status_value(namespace, name, language, status);
    // The push id keeps a status that comes back later (paused, then approved again) apart.
    let key = format!("template:{namespace}:{name}:{language}:{status}:{push_id}");
    let callback = state.new_callback(CallbackKind::TemplateStatus, key, &body);
    if let Err(e) = state.store.enqueue_callback(callback).await {
        tracing::error!("queuing the template status webhook failed: {e}");
        return Err(());
    }
    state.wake_dispatchers();
    Ok(())
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
        Push::BacklogDone | Push::SendingResumed { .. } | Push::TemplateStatus { .. } => "",
    };
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    // The remainder is below LANES, so it fits any usize.
    usize::try_from(hasher.finish() % LANES as u64).unwrap_or(0)
}

/// Most pushes a lane stores together.
const LANE_BATCH: usize = 64;

/// Stores and acknowledges one lane's pushes in order. Stops when the session ends; what was not
/// acknowledged is sent again on the next session.
///
/// The pushes already waiting in the lane are taken together and their messages committed in
/// one write: one consumer's burst (or an offline backlog, which comes from few consumers) goes
/// to one lane, and storing it a message per commit bound it to the database's commit latency.
async fn run_lane(state: Arc<CoreState>, client: NetClient, mut work: mpsc::Receiver<LaneWork>) {
    while let Some(first) = work.recv().await {
        let mut pushes = Vec::new();
        let mut barrier = None;
        let mut next = Some(first);
        while let Some(item) = next.take() {
            match item {
                LaneWork::Push(push) => pushes.push(push),
                LaneWork::Barrier(done) => {
                    barrier = Some(done);
                    break;
                }
            }
            if pushes.len() < LANE_BATCH {
                next = work.try_recv().ok();
            }
        }
        if !store_batch_until_done(&state, &client, &pushes).await {
            return;
        }
        if !pushes.is_empty() {
            state.wake_dispatchers();
        }
        for push in &pushes {
            if client.ack(push.id).await.is_err() {
                return;
            }
        }
        if let Some(done) = barrier {
            let _ = done.send(());
        }
    }
}

/// Stores a lane's batch: each receipt in order, then all its consumer messages in one write (in
/// order, so their webhooks keep it). Retries while the database is unavailable; false when the
/// session ended meanwhile.
async fn store_batch_until_done(
    state: &CoreState,
    client: &NetClient,
    pushes: &[IncomingPush],
) -> bool {
    let mut messages = Vec::new();
    for IncomingPush { id, push } in pushes {
        let prepared = retry_until_done(client, *id, || prepare_push(state, client, push)).await;
        match prepared {
            Some(Some(message)) => messages.push(message),
            Some(None) => {}
            None => return false,
        }
    }
    if messages.is_empty() {
        return true;
    }
    let first_id = pushes.first().map_or(0, |push| push.id);
    let stored =
        retry_until_done(client, first_id, || store_inbound(state, messages.clone())).await;
    stored.is_some()
}

/// Runs `attempt` until it succeeds, pausing longer after each failure; `None` when the session
/// ended meanwhile (the network will send the push again on the next one).
async fn retry_until_done<T, E, F, Fut>(client: &NetClient, id: u64, mut attempt: F) -> Option<T>
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut pause = RETRY_FIRST;
    loop {
        match attempt().await {
            Ok(value) => return Some(value),
            Err(e) => tracing::error!("storing push {id} failed, retrying in {pause:?}: {e}"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RETRY_MAX);
        if client.is_closed() {
            return None;
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

/// A receipt is stored at once; a consumer's message is made ready to store (media downloaded,
/// identity applied) and returned with its webhook.
async fn prepare_push(
    state: &CoreState,
    client: &NetClient,
    push: &Push,
) -> Result<Option<(InboundMessage, NewCallback)>, PushError> {
    match push.clone() {
        Push::Inbound {
            id,
            from,
            profile_name,
            timestamp,
            message,
        } => {
            let mut message = message;
            crate::domain::media::receive_inbound_media(state, client, &id, &mut message).await?;
            crate::domain::identity::on_inbound(state, &from, &mut message).await?;
            Ok(Some(inbound_row(
                state,
                &id,
                &from,
                &profile_name,
                timestamp,
                message,
            )))
        }
        Push::Receipt {
            message_id,
            recipient,
            status,
            timestamp,
            error,
        } => {
            store_receipt(state, &message_id, &recipient, status, timestamp, error).await?;
            Ok(None)
        }
        // Handled before the lanes.
        Push::BacklogDone | Push::SendingResumed { .. } | Push::TemplateStatus { .. } => Ok(None),
    }
}

/// Stores consumers' messages with their webhooks, in order.
async fn store_inbound(
    state: &CoreState,
    messages: Vec<(InboundMessage, NewCallback)>,
) -> Result<(), StoreError> {
    let ids: Vec<String> = messages.iter().map(|(msg, _)| msg.id.clone()).collect();
    let inserted = state.store.insert_inbound_batch(messages).await?;
    for (id, new) in ids.iter().zip(inserted) {
        if new {
            state.stats.inbound_persisted();
        } else {
            tracing::debug!("inbound message {id} was already stored");
        }
    }
    Ok(())
}

/// The stored row and the webhook of one consumer message.
fn inbound_row(
    state: &CoreState,
    id: &str,
    from: &str,
    profile_name: &str,
    timestamp: i64,
    message: serde_json::Value,
) -> (InboundMessage, NewCallback) {
    let message = webhooks::supported_inbound(message);
    let msg_type = message["type"].as_str().unwrap_or("unknown").to_string();
    let body = webhooks::inbound_message(from, profile_name, id, timestamp, &message);
    let callback = state.new_callback(CallbackKind::InboundMessage, format!("inbound:{id}"), &body);
    let msg = InboundMessage {
        id: id.to_string(),
        from: from.to_string(),
        msg_type,
        payload: message.to_string(),
        received_ms: timestamp.saturating_mul(1000),
    };
    (msg, callback)
}
