//! `Db`: the pool, the semaphore in front of it and the query clock; the one place where a query
//! meets a connection. Everything above runs its SQL through [`Db::run`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::{fmt, sync::Arc, time::Duration};

use r2d2::Pool;
use tokio::sync::Semaphore;
use tracing::info;

use super::{migrations, pool, pool::ConnectionManager, startup, DbConnection};
use crate::{backend::DbTarget, Backend, StoreConfig, StoreError};

/// A connected, migrated database. Cheap to clone; all clones share one pool.
#[derive(Clone)]
pub(crate) struct Db {
    inner: Arc<DbInner>,
}

struct DbInner {
    backend: Backend,
    pool: Pool<ConnectionManager>,
    /// Sized to the pool, so waiting for a connection happens here, without tying up a blocking thread.
    permits: Arc<Semaphore>,
    checkout_timeout: Duration,
    migrations_applied: usize,
    /// Count and time of every query, for the coreapp's `db_request_*` statistics.
    query_clock: Arc<QueryClock>,
}

impl Db {
    /// Picks the backend from the URL scheme, waits for the database (creating it if missing),
    /// applies pending migrations under a cross-process lock, then opens the pool.
    pub(crate) async fn open(config: &StoreConfig) -> Result<Db, StoreError> {
        config.validate()?;
        let target = DbTarget::parse(&config.url)?;
        let conn = startup::open_when_reachable(&target, config.startup_timeout).await?;
        let migrations_applied = migrate(conn, target.clone()).await?;
        let pool = open_pool(target.clone(), config.clone()).await?;
        info!(database = %target.describe(), migrations_applied, pool_size = config.pool_size, "store ready");
        Ok(Db {
            inner: Arc::new(DbInner {
                backend: target.backend(),
                pool,
                permits: Arc::new(Semaphore::new(pool_permits(config.pool_size))),
                checkout_timeout: config.connection_timeout,
                migrations_applied,
                query_clock: Arc::default(),
            }),
        })
    }

    pub(crate) fn backend(&self) -> Backend {
        self.inner.backend
    }

    pub(crate) fn migrations_applied(&self) -> usize {
        self.inner.migrations_applied
    }

    pub(crate) fn query_timings(&self) -> QueryTimings {
        self.inner.query_clock.totals()
    }

    pub(crate) fn pool_state(&self) -> PoolState {
        let state = self.inner.pool.state();
        PoolState {
            connections: state.connections,
            idle_connections: state.idle_connections,
            max_size: self.inner.pool.max_size(),
        }
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

impl fmt::Debug for Db {
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

/// Running totals of the queries run through one [`Db`] (and its clones), split by outcome,
/// for the `db_request_duration_us_*` and `db_request_error_duration_us_*` statistics.
#[derive(Debug, Default)]
struct QueryClock {
    ok_count: AtomicU64,
    ok_micros: AtomicU64,
    error_count: AtomicU64,
    error_micros: AtomicU64,
}

/// The connection pool at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolState {
    /// Open connections, idle or in use.
    pub connections: u32,
    pub idle_connections: u32,
    /// The pool size: the most connections it opens.
    pub max_size: u32,
}

/// A copy of the totals at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryTimings {
    pub ok_count: u64,
    pub ok_micros: u64,
    pub error_count: u64,
    pub error_micros: u64,
}

impl QueryClock {
    fn record(&self, succeeded: bool, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let (count, total) = if succeeded {
            (&self.ok_count, &self.ok_micros)
        } else {
            (&self.error_count, &self.error_micros)
        };
        count.fetch_add(1, Ordering::Relaxed);
        total.fetch_add(micros, Ordering::Relaxed);
    }

    fn totals(&self) -> QueryTimings {
        QueryTimings {
            ok_count: self.ok_count.load(Ordering::Relaxed),
            ok_micros: self.ok_micros.load(Ordering::Relaxed),
            error_count: self.error_count.load(Ordering::Relaxed),
            error_micros: self.error_micros.load(Ordering::Relaxed),
        }
    }
}
