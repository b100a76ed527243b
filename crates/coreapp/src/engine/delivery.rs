//! The delivery worker: hands stored messages to the network and reacts honestly to its answer.
//!
//! - accepted: `sent`;
//! - 429 `Rate limit hit` (the number's throughput): the message stays pending and every send
//!   pauses until the cooldown the network names has passed (at most an hour, then it asks
//!   again), or until the network says the throttle is over (`SendingResumed`: lifted, or a
//!   throttle longer than the pause ended), then it goes again;
//! - any other refusal (470, 471 tier exhausted, 1013, ...): `failed` with the network's error
//!   in the status webhook;
//! - no answer (connection lost, outage, not ready): stays pending and goes on the next session.
//!
//! Nothing leaves the queue without a status, and nothing is retried faster than the network
//! allows.

use crate::engine::expiry;
use crate::network::SessionError;
use crate::state::CoreState;
use crate::util::lock;
use crate::util::now_ms;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wa_api::status::MessageStatus;
use wa_netproto::{NetError, Request, Response};
use wa_store::{OutboundMessage, StoreError};

/// The network's code for a throttled send (onprem-messaging §8.2).
const RATE_LIMIT_HIT: u32 = 429;
/// Pause after a 429 that names no retry time.
const DEFAULT_COOLDOWN: Duration = Duration::from_secs(1);
/// Longest pause one 429 can impose, whatever it says.
const MAX_COOLDOWN: Duration = Duration::from_secs(3_600);

/// What became of one attempt to hand a message to the network.
enum Delivery {
    /// Accepted or refused: the message has left the send queue.
    Done,
    /// Not attempted or no answer: it stays pending and goes again.
    Postponed,
    /// The network throttled the number: it stays pending, and nothing is sent for this long.
    /// With the count of [`CoreState::sending_resumed`] seen before the send went out.
    Throttled(Duration, u64),
}

/// Sends stop until this moment after a 429, unless the pause ends early: it holds only while
/// [`CoreState::sending_resumed`] still has the count it was set under.
#[derive(Default)]
struct Cooldown(Mutex<Option<(Instant, u64)>>);

impl Cooldown {
    /// Pauses sends for `length` after a 429 to a send made when the count was `seen`. A
    /// refusal older than the latest resumption (the throttle ended while it was on its way)
    /// pauses nothing.
    fn extend(&self, length: Duration, seen: u64, now: u64) {
        if seen != now {
            return;
        }
        let until = Instant::now() + length;
        let mut current = lock(&self.0);
        let until = match *current {
            Some((c, count)) if count == now => c.max(until),
            _ => until,
        };
        *current = Some((until, now));
    }

    /// What is left of the pause while the count is still `now`.
    fn remaining(&self, now: u64) -> Option<Duration> {
        lock(&self.0)
            .filter(|(_, count)| *count == now)
            .map(|(until, _)| until.saturating_duration_since(Instant::now()))
            .filter(|left| !left.is_zero())
    }
}

/// Hands pending messages to the network while the coreapp is ready, at most
/// `max_inflight_sends` at a time, oldest first.
pub async fn delivery_worker(state: Arc<CoreState>) {
    let limit = state.config.max_inflight_sends;
    let permits = Arc::new(Semaphore::new(limit));
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    // Earlier attempts of messages whose send was postponed (the `retry` label of the send
    // statistics); an entry lives until its message is sent or failed.
    // Bounded: a message failed by expiry leaves its entry behind (see `note_retry`).
    let retries: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let cooldown = Arc::new(Cooldown::default());
    let mut last_sweep = Instant::now();
    loop {
        if last_sweep.elapsed() >= expiry::EXPIRY_SWEEP_INTERVAL {
            last_sweep = Instant::now();
            let exclude: Vec<String> = lock(&in_flight).iter().cloned().collect();
            expiry::fail_expired(&state, exclude).await;
        }
        // Subscribed before reading, so a resumption right after the read still wakes the wait.
        let mut resumed = state.sending_resumed.subscribe();
        let count = *resumed.borrow_and_update();
        if let Some(left) = cooldown.remaining(count) {
            tracing::debug!("sending paused for {left:?}: the network throttled this number");
            tokio::select! {
                () = tokio::time::sleep(left) => {}
                _ = resumed.changed() => tracing::info!("sending resumes before the pause ended"),
            }
            continue;
        }
        let woken = state.send_wake.notified();
        if state.is_ready() {
            let exclude: Vec<String> = lock(&in_flight).iter().cloned().collect();
            // In a cluster, only the messages of this coreapp's shard (none on a standby).
            let pending = match state.cluster.sending_scope().filter() {
                Some(shard) => {
                    state
                        .store
                        .pending_outbound(limit as i64, exclude, shard)
                        .await
                }
                None => Ok(Vec::new()),
            };
            match pending {
                Ok(batch) if !batch.is_empty() => {
                    for message in batch {
                        if cooldown
                            .remaining(*state.sending_resumed.borrow())
                            .is_some()
                        {
                            break;
                        }
                        let Ok(permit) = permits.clone().acquire_owned().await else {
                            return;
                        };
                        lock(&in_flight).insert(message.id.clone());
                        let (state, in_flight) = (state.clone(), in_flight.clone());
                        let (retries, cooldown) = (retries.clone(), cooldown.clone());
                        tokio::spawn(async move {
                            let retry = lock(&retries).get(&message.id).copied().unwrap_or(0);
                            match deliver(&state, &message, retry, permit).await {
                                Delivery::Done => {
                                    lock(&retries).remove(&message.id);
                                }
                                Delivery::Postponed => note_retry(&retries, &message.id, retry),
                                Delivery::Throttled(length, seen) => {
                                    let now = *state.sending_resumed.borrow();
                                    cooldown.extend(length, seen, now);
                                    note_retry(&retries, &message.id, retry);
                                }
                            }
                            lock(&in_flight).remove(&message.id);
                            state.send_wake.notify_one();
                        });
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("reading pending messages failed: {e}"),
            }
        }
        tokio::select! {
            _ = woken => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Most messages whose attempts are counted at once. The count only labels the send statistics,
/// so when a backlog of postponed messages exceeds it, forgetting the counts is harmless.
const MAX_COUNTED_RETRIES: usize = 100_000;

fn note_retry(retries: &Mutex<HashMap<String, u32>>, id: &str, retry: u32) {
    let mut retries = lock(retries);
    if retries.len() >= MAX_COUNTED_RETRIES {
        retries.clear();
    }
    retries.insert(id.to_string(), retry.saturating_add(1));
}

/// One send. `retry` counts the earlier attempts, for the statistics. `permit` is one of the
/// `max_inflight_sends` slots; it is given back as soon as the network has answered, so the next
/// send does not wait for this one's status to be committed (the message stays in the caller's
/// in-flight set until then, so it is not read again).
async fn deliver(
    state: &CoreState,
    message: &OutboundMessage,
    retry: u32,
    permit: OwnedSemaphorePermit,
) -> Delivery {
    let ready = state.is_ready() && state.cluster.may_send(&message.to);
    let Some(session) = state.session().filter(|_| ready) else {
        return Delivery::Postponed;
    };
    // A message that kept failing to reach the network (e.g. it hung) must not go out late.
    if expiry::has_expired(state, message) {
        expiry::give_up(state, message).await;
        return Delivery::Done;
    }
    let network_message: Value = serde_json::from_str(&message.payload).unwrap_or(Value::Null);
    let request = Request::SendMessage {
        id: message.id.clone(),
        to: message.to.clone(),
        message: network_message,
    };
    let handed_over = Instant::now();
    let resumed = *state.sending_resumed.borrow();
    let answer = session.request(request).await;
    drop(permit);
    let (status, timestamp, error) = match answer {
        Ok(Response::Accepted { timestamp, .. }) => {
            let elapsed = handed_over.elapsed();
            state
                .stats
                .outbound_accepted(&message.msg_type, retry, elapsed);
            (MessageStatus::Sent, timestamp, None)
        }
        Ok(other) => {
            tracing::warn!("unexpected answer to a send: {other:?}");
            return Delivery::Postponed;
        }
        Err(SessionError::Net(e)) if e.code == RATE_LIMIT_HIT => {
            let cooldown = retry_after(&e);
            tracing::info!("send of {} throttled, retrying in {cooldown:?}", message.id);
            return Delivery::Throttled(cooldown, resumed);
        }
        Err(SessionError::Net(e)) => (MessageStatus::Failed, now_ms() / 1000, Some(e)),
        Err(e) => {
            tracing::debug!("send of {} postponed: {e}", message.id);
            return Delivery::Postponed;
        }
    };
    record_answer(state, message, status, timestamp, error).await;
    state.wake_dispatchers();
    Delivery::Done
}

/// Longest pause between two attempts at recording the network's answer.
const MAX_RECORD_PAUSE: Duration = Duration::from_secs(5);

/// Records the network's answer to a send, trying until it is recorded. The message stays in the
/// worker's in-flight set meanwhile, so it is never read as pending and handed to the network a
/// second time while this process runs: not when the database was briefly unreachable, not when
/// the write was rolled back for contention, not even when it keeps failing (after a restart the
/// message is pending again and goes once more; the network drops the repeat by id).
async fn record_answer(
    state: &CoreState,
    message: &OutboundMessage,
    status: MessageStatus,
    timestamp: i64,
    error: Option<NetError>,
) {
    let mut pause = Duration::from_millis(50);
    loop {
        let recorded = crate::engine::status::record_status(
            state,
            &message.id,
            &message.to,
            status,
            timestamp,
            error.clone(),
        );
        match recorded.await {
            Ok(_) => return,
            Err(e @ (StoreError::Unavailable(_) | StoreError::Contention(_))) => tracing::warn!(
                "recording '{status}' for {} failed, retrying in {pause:?}: {e}",
                message.id
            ),
            Err(e) => tracing::error!(
                "recording '{status}' for {} failed, retrying in {pause:?}: {e}",
                message.id
            ),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_RECORD_PAUSE);
    }
}

/// The cooldown a throttling error names (`retry_after_ms`), within sane bounds.
fn retry_after(error: &NetError) -> Duration {
    error
        .retry_after_ms
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_COOLDOWN)
        .min(MAX_COOLDOWN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cooldown_comes_from_the_typed_field() {
        let e = NetError::new(429, "Rate limit hit").with_retry_after(Duration::from_millis(1500));
        assert_eq!(retry_after(&e), Duration::from_millis(1500));
        // Words alone name no cooldown: only the field counts.
        let words = NetError::new(429, "x").with_details("retry after 1500 ms");
        assert_eq!(retry_after(&words), DEFAULT_COOLDOWN);
        let huge = NetError::new(429, "x").with_retry_after(Duration::from_secs(99_999_999));
        assert_eq!(retry_after(&huge), MAX_COOLDOWN);
    }

    #[test]
    fn a_cooldown_only_grows_until_sending_resumes() {
        let c = Cooldown::default();
        assert!(c.remaining(0).is_none());
        c.extend(Duration::from_secs(10), 0, 0);
        c.extend(Duration::from_secs(1), 0, 0);
        assert!(c.remaining(0).unwrap() > Duration::from_secs(5));
        // The network said the throttle is over: the pause ends.
        assert!(c.remaining(1).is_none());
        // A refusal sent before that does not start a new pause; one sent after does.
        c.extend(Duration::from_secs(10), 0, 1);
        assert!(c.remaining(1).is_none());
        c.extend(Duration::from_secs(1), 1, 1);
        assert!(c.remaining(1).unwrap() <= Duration::from_secs(1));
    }
}
