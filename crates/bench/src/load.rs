//! Outbound load: `POST /v1/messages` in a closed loop (N clients, each sending as soon as its
//! previous answer came) and in an open loop (a fixed arrival rate, whatever the answers do).

use crate::api::{Api, SendOutcome};
use crate::report::Percentiles;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The recipients, round-robin; each has an open customer-service window.
#[derive(Clone)]
pub struct Recipients(Arc<Vec<String>>);

impl Recipients {
    pub fn new(wa_ids: Vec<String>) -> Recipients {
        Recipients(Arc::new(wa_ids))
    }

    fn pick(&self, n: usize) -> &str {
        &self.0[n % self.0.len()]
    }
}

/// What one load phase did.
#[derive(Debug, Default, Serialize)]
pub struct LoadResult {
    pub attempted: usize,
    pub accepted: usize,
    /// Non-201 answers and transport failures, by `status/code` (or `transport`).
    pub errors: BTreeMap<String, usize>,
    /// Requests the open loop could not even start because too many were still in flight.
    pub skipped: usize,
    /// From the first request to the last answer.
    pub seconds: f64,
    pub latency: Percentiles,
    /// Accepted message ids with the moment their 201 arrived.
    #[serde(skip)]
    pub accepted_at: Vec<(String, Instant)>,
    #[serde(skip)]
    pub started: Option<Instant>,
}

impl LoadResult {
    pub fn error_count(&self) -> usize {
        self.errors.values().sum::<usize>() + self.skipped
    }

    pub fn accepted_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.accepted as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// One request's outcome, as the load tasks report it.
struct Sample {
    latency: Duration,
    outcome: Result<(String, Instant), String>,
}

async fn one_send(api: &Api, to: &str, n: usize) -> Sample {
    let start = Instant::now();
    let outcome = api.send_text(to, &format!("bench message {n}")).await;
    let latency = start.elapsed();
    let outcome = match outcome {
        Ok(SendOutcome::Accepted(id)) => Ok((id, Instant::now())),
        Ok(SendOutcome::Refused(status, code)) => Err(format!("{status}/{code}")),
        Err(error) => Err(transport_kind(&error)),
    };
    Sample { latency, outcome }
}

/// A transport failure in one word, so the error table stays short.
fn transport_kind(error: &anyhow::Error) -> String {
    match error.downcast_ref::<reqwest::Error>() {
        Some(e) if e.is_timeout() => "timeout".to_string(),
        Some(e) if e.is_connect() => "connect".to_string(),
        // The innermost cause says what happened (reset, closed, ...).
        _ => {
            let cause = error.root_cause().to_string();
            format!("transport: {}", cause.chars().take(60).collect::<String>())
        }
    }
}

fn collect(samples: Vec<Sample>, started: Instant, ended: Instant, skipped: usize) -> LoadResult {
    let mut result = LoadResult {
        attempted: samples.len() + skipped,
        skipped,
        seconds: ended.duration_since(started).as_secs_f64(),
        started: Some(started),
        ..LoadResult::default()
    };
    let mut latencies = Vec::with_capacity(samples.len());
    for sample in samples {
        latencies.push(sample.latency);
        match sample.outcome {
            Ok(accepted) => result.accepted_at.push(accepted),
            Err(kind) => *result.errors.entry(kind).or_default() += 1,
        }
    }
    result.accepted = result.accepted_at.len();
    result.latency = Percentiles::of(latencies);
    result
}

/// `clients` tasks, each sending back to back until `duration` has passed.
pub async fn closed_loop(
    api: &Api,
    to: &Recipients,
    clients: usize,
    duration: Duration,
) -> LoadResult {
    let started = Instant::now();
    let deadline = started + duration;
    let counter = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (api, to, counter) = (api.clone(), to.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                samples.push(one_send(&api, to.pick(n), n).await);
            }
            samples
        }));
    }
    let mut samples = Vec::new();
    for task in tasks {
        // A panicking load task loses its samples only; the phase still reports the rest.
        if let Ok(mut part) = task.await {
            samples.append(&mut part);
        }
    }
    collect(samples, started, Instant::now(), 0)
}

/// `rate` requests per second for `duration`, each in its own task so a slow answer never delays
/// the next request (no coordinated omission). At most `max_in_flight` run at once; requests
/// beyond that are counted as skipped rather than queued, so an overloaded stack shows as errors.
pub async fn open_loop(
    api: &Api,
    to: &Recipients,
    rate: u32,
    duration: Duration,
    max_in_flight: usize,
) -> LoadResult {
    let total = (f64::from(rate) * duration.as_secs_f64()).round() as usize;
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(total);
    let mut skipped = 0;
    let started = Instant::now();
    let mut issued = 0;
    while issued < total {
        // Catch up on every request due by now: the timer wakes at 1 ms granularity at best,
        // which at 1000/s would otherwise halve the rate.
        let due = ((started.elapsed().as_secs_f64() * f64::from(rate)) as usize + 1).min(total);
        while issued < due {
            let n = issued;
            issued += 1;
            if in_flight.load(Ordering::Relaxed) >= max_in_flight {
                skipped += 1;
                continue;
            }
            in_flight.fetch_add(1, Ordering::Relaxed);
            let (api, to, in_flight) = (api.clone(), to.clone(), in_flight.clone());
            tasks.push(tokio::spawn(async move {
                let sample = one_send(&api, to.pick(n), n).await;
                in_flight.fetch_sub(1, Ordering::Relaxed);
                sample
            }));
        }
        let next = started + Duration::from_secs_f64(issued as f64 / f64::from(rate));
        tokio::time::sleep_until(next.into()).await;
    }
    let mut samples = Vec::with_capacity(tasks.len());
    for task in tasks {
        if let Ok(sample) = task.await {
            samples.push(sample);
        }
    }
    collect(samples, started, Instant::now(), skipped)
}
