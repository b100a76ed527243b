//! The r2d2 pool, with a manager that opens exactly the configured backend.

use std::time::{Duration, Instant};

use diesel::r2d2::R2D2Connection;
use r2d2::{ManageConnection, Pool};

use super::connection::{self, DbConnection};
use crate::{backend::DbTarget, StoreConfig, StoreError};

/// A connection that was used successfully this recently is handed out without a ping. Pinging on
/// every checkout cost one extra round trip per query (measured by the benchmark); a connection
/// the server dropped since is still caught, because a failed query marks it for a check.
const TRUSTED_FOR: Duration = Duration::from_secs(2);

pub(crate) struct ConnectionManager {
    target: DbTarget,
}

/// A pooled connection and what we know about its health.
pub(crate) struct PooledConnection {
    pub(crate) conn: DbConnection,
    /// When a query on it last succeeded; `None` after a failure, forcing a ping before reuse.
    last_success: Option<Instant>,
}

impl PooledConnection {
    /// Records how the last query went, which decides whether the next checkout pings.
    pub(crate) fn note_outcome(&mut self, succeeded: bool) {
        self.last_success = succeeded.then(Instant::now);
    }

    fn recently_proven(&self) -> bool {
        self.last_success
            .is_some_and(|at| at.elapsed() < TRUSTED_FOR)
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = PooledConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<PooledConnection, StoreError> {
        Ok(PooledConnection {
            conn: connection::open(&self.target)?,
            last_success: Some(Instant::now()),
        })
    }

    /// r2d2 calls this on checkout, so a connection the server closed is replaced, not handed out.
    fn is_valid(&self, pooled: &mut PooledConnection) -> Result<(), StoreError> {
        if pooled.recently_proven() {
            return Ok(());
        }
        pooled.conn.ping()?;
        pooled.note_outcome(true);
        Ok(())
    }

    fn has_broken(&self, pooled: &mut PooledConnection) -> bool {
        pooled.conn.is_broken()
    }
}

/// Builds the pool and waits until its first connection is open. Blocking.
pub(crate) fn build(
    target: DbTarget,
    config: &StoreConfig,
) -> Result<Pool<ConnectionManager>, StoreError> {
    Pool::builder()
        .max_size(config.pool_size)
        // Keep one connection warm (unless `keep_warm` is off); the rest are opened on demand and
        // closed again after `idle_timeout`, which is what On-Prem's WA_DB_CONNECTION_IDLE_TIMEOUT
        // promises.
        .min_idle(Some(u32::from(config.keep_warm)))
        .idle_timeout(config.idle_timeout)
        .connection_timeout(config.connection_timeout)
        .build(ConnectionManager { target })
        .map_err(|error| {
            StoreError::Unavailable(format!("cannot open the connection pool: {error}"))
        })
}
