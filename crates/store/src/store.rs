//! The `Store` handle: startup, and the one place where queries meet the pool.

use std::{fmt, sync::Arc, time::Duration};

use r2d2::Pool;
use tokio::sync::Semaphore;
use tracing::info;

use crate::group_commit::{CommitQueue, WriteClass};
use crate::{
    backend::DbTarget, connection::DbConnection, migrations, pool, pool::ConnectionManager,
    startup, stats::QueryClock, stats::QueryTimings, Backend, StoreConfig, StoreError,
};

/// Async access to the database. Cheap to clone; all clones share one pool.
#[derive(Clone)]
pub struct Store {
    inner: Arc<StoreInner>,
}

struct StoreInner {
    backend: Backend,
    pool: Pool<ConnectionManager>,
    /// Sized to the pool, so waiting for a connection happens here, without tying up a blocking thread.
    permits: Arc<Semaphore>,
    checkout_timeout: Duration,
    migrations_applied: usize,
    /// Count and time of every query, for the coreapp's `db_request_*` statistics.
    query_clock: Arc<QueryClock>,
    /// Hot writes waiting to share a commit (`group_commit`), one queue per [`WriteClass`].
    commit_queues: [CommitQueue; 2],
}

impl Store {
    /// Picks the backend from the URL scheme, waits for the database (creating it if missing),
    /// applies pending migrations under a cross-process lock, then opens the pool.
    pub async fn connect(config: &StoreConfig) -> Result<Store, StoreError> {
        config.validate()?;
        let target = DbTarget::parse(&config.url)?;
        let conn = startup::open_when_reachable(&target, config.startup_timeout).await?;
        let migrations_applied = migrate(conn, target.clone()).await?;
        let pool = open_pool(target.clone(), config.clone()).await?;
        info!(database = %target.describe(), migrations_applied, pool_size = config.pool_size, "store ready");
        Ok(Store {
            inner: Arc::new(StoreInner {
                backend: target.backend(),
                pool,
                permits: Arc::new(Semaphore::new(pool_permits(config.pool_size))),
                checkout_timeout: config.connection_timeout,
                migrations_applied,
                query_clock: Arc::default(),
                commit_queues: Default::default(),
            }),
        })
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// How many migrations this `connect` applied; 0 when the schema was already current.
    pub fn migrations_applied(&self) -> usize {
        self.inner.migrations_applied
    }

    pub(crate) fn commit_queue(&self, class: WriteClass) -> &CommitQueue {
        &self.inner.commit_queues[class as usize]
    }

    /// How many queries ran through this store (and its clones) and how long they took.
    pub fn query_timings(&self) -> QueryTimings {
        self.inner.query_clock.totals()
    }

    /// Checks that a pooled connection answers (r2d2 pings it on checkout).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|_conn| Ok(())).await
    }

    /// Runs `query` on a pooled connection on tokio's blocking threads.
    pub(crate) async fn run<T>(
        &self,
        query: impl FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
    {
        let checkout_timeout = self.inner.checkout_timeout;
        let permit = tokio::time::timeout(
            checkout_timeout,
            Arc::clone(&self.inner.permits).acquire_owned(),
        )
        .await
        .map_err(|_elapsed| no_connection_within(checkout_timeout))?
        .map_err(|_closed| StoreError::Unavailable("the store is closed".to_string()))?;
        let pool = self.inner.pool.clone();
        let clock = Arc::clone(&self.inner.query_clock);
        blocking(move || {
            // Held until the query finishes, even if the caller stops waiting for it.
            let _permit = permit;
            let mut conn = pool
                .get_timeout(checkout_timeout)
                .map_err(|error| StoreError::Unavailable(error.to_string()))?;
            let started = std::time::Instant::now();
            let outcome = query(&mut conn.conn);
            conn.note_outcome(outcome.is_ok());
            clock.record(outcome.is_ok(), started.elapsed());
            outcome
        })
        .await
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.pool.state();
        f.debug_struct("Store")
            .field("backend", &self.inner.backend)
            .field("connections", &state.connections)
            .field("idle_connections", &state.idle_connections)
            .finish()
    }
}

async fn migrate(mut conn: DbConnection, target: DbTarget) -> Result<usize, StoreError> {
    blocking(move || migrations::run_pending(&mut conn, &target)).await
}

async fn open_pool(
    target: DbTarget,
    config: StoreConfig,
) -> Result<Pool<ConnectionManager>, StoreError> {
    blocking(move || pool::build(target, &config)).await
}

/// Runs blocking database work off the async threads; a panic in it resumes in the caller.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(outcome) => outcome,
        Err(join_error) if join_error.is_panic() => {
            std::panic::resume_unwind(join_error.into_panic())
        }
        Err(join_error) => Err(StoreError::Unavailable(format!(
            "database task cancelled: {join_error}"
        ))),
    }
}

fn pool_permits(pool_size: u32) -> usize {
    usize::try_from(pool_size).unwrap_or(usize::MAX)
}

fn no_connection_within(timeout: Duration) -> StoreError {
    StoreError::Unavailable(format!("no free database connection within {timeout:?}"))
}

/// Unix seconds now; timestamps are stored as BIGINT seconds on every backend.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since_epoch| {
            i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
        })
}
