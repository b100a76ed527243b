//! Layer 4: the `Store` facade, the crate's async API in domain types. Each method runs one of the
//! table layer's functions on the pool (`Db::run`) or hands a hot write to a commit queue; the
//! methods are grouped by area in the files of this folder.

mod accounts;
mod callbacks;
mod cluster;
mod contacts;
mod media;
mod messages;
mod settings;
mod stats;

use std::{fmt, sync::Arc};

use crate::db::{Db, DbConnection, QueryTimings};
use crate::group_commit::CommitQueue;
use crate::tables;
use crate::tables::pipeline::{PipelineWrite, WriteClass, Written};
use crate::{Backend, Sealer, StoreConfig, StoreError};

/// Async access to the database. Cheap to clone; all clones share one pool.
#[derive(Clone)]
pub struct Store {
    inner: Arc<StoreInner>,
}

struct StoreInner {
    db: Db,
    /// Seals and opens the secret values (see `seal`).
    sealer: Sealer,
    /// The messages API calls are waiting to store ([`WriteClass::Accept`]).
    accept_queue: CommitQueue<PipelineWrite>,
    /// Everything else the message pipeline writes ([`WriteClass::Pipeline`]), in lanes that
    /// commit side by side on their own connections (see [`pipeline_lanes`]).
    pipeline_lanes: Vec<CommitQueue<PipelineWrite>>,
}

/// How many pipeline commit queues run side by side. One flusher applies its batch's statements
/// one after another, each a round trip to the server: under a backlog a single lane left the
/// CPU a third idle while the pending messages waited (docs/performance.md). Writes are spread by
/// [`PipelineWrite::order_key`], so the rows of one message or one consumer never change hands
/// between lanes and their transactions touch disjoint message rows. SQLite has one writer at a
/// time, so it keeps one lane.
fn pipeline_lanes(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 1,
        Backend::Mysql | Backend::Postgres => 4,
    }
}

impl Store {
    /// Picks the backend from the URL scheme, waits for the database (creating it if missing),
    /// applies pending migrations under a cross-process lock, then opens the pool. Secret values
    /// stored plain or sealed with the previous key are sealed with the current one; one that no
    /// configured key opens fails the start with `Sealed`.
    pub async fn connect(config: &StoreConfig) -> Result<Store, StoreError> {
        let db = Db::open(config).await?;
        let store = Store {
            inner: Arc::new(StoreInner {
                accept_queue: CommitQueue::new(db.clone()),
                pipeline_lanes: (0..pipeline_lanes(db.backend()))
                    .map(|_| CommitQueue::new(db.clone()))
                    .collect(),
                sealer: config.sealer.clone(),
                db,
            }),
        };
        let resealed = store.reseal_secrets().await?;
        if resealed > 0 {
            tracing::info!(
                resealed,
                "stored secrets sealed with the current secrets key"
            );
        }
        let filled = store.run(crate::tables::messages::fill_shard_keys).await?;
        if filled > 0 {
            tracing::info!(filled, "pending messages given their shard key");
        }
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.inner.db.backend()
    }

    /// How many migrations this `connect` applied; 0 when the schema was already current.
    pub fn migrations_applied(&self) -> usize {
        self.inner.db.migrations_applied()
    }

    /// How many queries ran through this store (and its clones) and how long they took.
    pub fn query_timings(&self) -> QueryTimings {
        self.inner.db.query_timings()
    }

    /// Checks that a pooled connection answers (r2d2 pings it on checkout).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|_conn| Ok(())).await
    }

    /// Seals every stored secret that is plain or sealed with the previous key; returns how many.
    /// Each row is rewritten only if it still holds what was read, so processes starting together
    /// (or an API call at the same time) lose nothing.
    pub async fn reseal_secrets(&self) -> Result<usize, StoreError> {
        let sealer = self.sealer().clone();
        self.run(move |conn| {
            Ok(tables::secrets::reseal(conn, &sealer)?
                + tables::certs::reseal(conn, &sealer)?
                + tables::registration::reseal(conn, &sealer)?
                + tables::config_values::reseal(conn, &sealer)?)
        })
        .await
    }

    fn sealer(&self) -> &Sealer {
        &self.inner.sealer
    }

    /// Runs `query` on a pooled connection on tokio's blocking threads.
    async fn run<T>(
        &self,
        query: impl FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
    {
        self.inner.db.run(query).await
    }

    /// The queue `write` waits in: the API's own, or the pipeline lane of its order key.
    fn commit_queue(&self, write: &PipelineWrite) -> &CommitQueue<PipelineWrite> {
        match write.class() {
            WriteClass::Accept => &self.inner.accept_queue,
            WriteClass::Pipeline => {
                let lanes = &self.inner.pipeline_lanes;
                let lane = write.order_key().map_or(0, |key| lane_of(key, lanes.len()));
                &lanes[lane]
            }
        }
    }

    /// Commits `write`, possibly together with other callers' writes, and returns what it did.
    async fn write(&self, write: PipelineWrite) -> Result<Written, StoreError> {
        self.commit_queue(&write).write(write).await
    }

    /// Commits `writes` in the order given, sharing as few commits as possible. They all go to
    /// the queue of the first one, so their order holds.
    async fn write_all(&self, writes: Vec<PipelineWrite>) -> Vec<Result<Written, StoreError>> {
        let Some(first) = writes.first() else {
            return Vec::new();
        };
        self.commit_queue(first).write_all(writes).await
    }
}

/// The lane of `key` among `lanes`: the same key always gets the same lane in this process.
fn lane_of(key: &str, lanes: usize) -> usize {
    // FNV-1a: tiny, stable and well spread over ids and phone numbers.
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    usize::try_from(hash % lanes.max(1) as u64).unwrap_or(0)
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.db.fmt(f)
    }
}
