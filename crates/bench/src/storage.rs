//! The storage ceiling: how many single-row write transactions per second the same database server
//! takes through `wa_store` on this machine. The product commits at least one such transaction per
//! event (a message accepted, a status, a webhook delivered), so its rates read best as a fraction
//! of this one.

use anyhow::{Context, Result};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wa_store::testing::TestDb;
use wa_store::{Backend, NewCallback, Store, StoreConfig};

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Ceiling {
    pub connections: usize,
    pub inserts: u64,
    pub seconds: f64,
    pub per_second: f64,
}

/// `enqueue_callback` (a transaction: a duplicate check and one insert, then commit) from
/// `connections` tasks at once for `duration`, on a scratch database dropped afterwards.
pub async fn ceiling(backend: Backend, connections: usize, duration: Duration) -> Result<Ceiling> {
    let db = TestDb::new(backend);
    let config = StoreConfig {
        pool_size: u32::try_from(connections).unwrap_or(u32::MAX),
        startup_timeout: Duration::from_secs(30),
        ..StoreConfig::new(db.url.clone(), wa_store::testing::test_sealer())
    };
    let store = Store::connect(&config)
        .await
        .context("open the scratch database for the storage ceiling")?;
    // A body the size of a real status webhook, so the row is as wide as the product's.
    let body = format!("{{\"statuses\":[{{\"id\":\"gBGG{}\"}}]}}", "x".repeat(400));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for worker in 0..connections {
        let (store, done, body) = (store.clone(), done.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                let callback = NewCallback {
                    event_key: format!("bench:{worker}:{n}"),
                    kind: "bench".to_string(),
                    body: body.clone(),
                    cloud: false,
                };
                store.enqueue_callback(callback).await?;
                n += 1;
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await.context("storage worker panicked")??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let inserts = done.load(Ordering::Relaxed);
    drop(store);
    // `db` is dropped here, which drops the scratch database.
    Ok(Ceiling {
        connections,
        inserts,
        seconds,
        per_second: inserts as f64 / seconds,
    })
}
