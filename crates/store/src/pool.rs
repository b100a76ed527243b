//! The r2d2 pool, with a manager that opens exactly the configured backend.

use diesel::r2d2::R2D2Connection;
use r2d2::{ManageConnection, Pool};

use crate::{
    backend::DbTarget,
    connection::{self, DbConnection},
    StoreConfig, StoreError,
};

pub(crate) struct ConnectionManager {
    target: DbTarget,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<DbConnection, StoreError> {
        connection::open(&self.target)
    }

    /// r2d2 calls this on checkout, so a connection the server closed is replaced, not handed out.
    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        conn.ping()?;
        Ok(())
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Builds the pool and waits until its first connection is open. Blocking.
pub(crate) fn build(
    target: DbTarget,
    config: &StoreConfig,
) -> Result<Pool<ConnectionManager>, StoreError> {
    Pool::builder()
        .max_size(config.pool_size)
        // Keep one connection warm; the rest are opened on demand and closed again after
        // `idle_timeout`, which is what On-Prem's WA_DB_CONNECTION_IDLE_TIMEOUT promises.
        .min_idle(Some(1))
        .idle_timeout(config.idle_timeout)
        .connection_timeout(config.connection_timeout)
        .build(ConnectionManager { target })
        .map_err(|error| {
            StoreError::Unavailable(format!("cannot open the connection pool: {error}"))
        })
}
