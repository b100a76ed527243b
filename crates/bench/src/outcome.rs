//! A phase's outcome as the webhook receiver saw it: how many accepted messages got their `sent`
//! webhook and how fast, and waits for the webhooks a phase expects.

use crate::load::LoadResult;
use crate::receiver::{self, Receiver};
use crate::report::Percentiles;
use anyhow::{bail, Result};
use std::time::{Duration, Instant};

/// Accepted → `sent` webhook, for the messages of one phase.
#[derive(serde::Serialize)]
pub struct EndToEnd {
    pub sent: usize,
    /// Sent webhooks per second from the first request to the last sent webhook.
    pub rate: f64,
    pub latency: Percentiles,
}

pub fn end_to_end(receiver: &Receiver, result: &LoadResult) -> EndToEnd {
    let mut latencies = Vec::with_capacity(result.accepted_at.len());
    let mut last: Option<Instant> = None;
    for (id, accepted) in &result.accepted_at {
        if let Some(at) = receiver.sent_at(id) {
            latencies.push(at.saturating_duration_since(*accepted));
            last = Some(last.map_or(at, |l| l.max(at)));
        }
    }
    let sent = latencies.len();
    let rate = match (result.started, last) {
        (Some(start), Some(last)) => {
            sent as f64
                / last
                    .saturating_duration_since(start)
                    .as_secs_f64()
                    .max(1e-9)
        }
        _ => 0.0,
    };
    EndToEnd {
        sent,
        rate,
        latency: Percentiles::of(latencies),
    }
}

pub async fn wait_for_count(
    receiver: &Receiver,
    counter: fn(&receiver::Counters) -> &std::sync::atomic::AtomicU64,
    wanted: u64,
    limit: Duration,
) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        let now = receiver.count(counter);
        if now >= wanted {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{now} of {wanted} webhooks within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until every message the phase got accepted has its `sent` (or `failed`) webhook; false
/// when `limit` passed first.
pub async fn wait_for_statuses(receiver: &Receiver, result: &LoadResult, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let ids = || result.accepted_at.iter().map(|(id, _)| id.as_str());
    while receiver.resolved(ids()) < result.accepted {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    true
}
