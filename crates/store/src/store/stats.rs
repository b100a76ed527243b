//! Counts for the statistics endpoints (`GET /v1/stats/db`, the queue gauges of
//! `GET /v1/stats/app`).

use super::Store;
use crate::db::PoolState;
use crate::tables::{
    messages,
    stats::{self, DbCounts},
};
use crate::StoreError;

impl Store {
    /// Every count of `GET /v1/stats/db`. Each is one indexed or grouped `COUNT(*)`; on a large
    /// database they still scan, which is why the spec says to poll this endpoint sparingly.
    pub async fn db_counts(&self) -> Result<DbCounts, StoreError> {
        self.run(stats::db_counts).await
    }

    /// Outbound messages stored and not yet accepted by the network (the send queue).
    pub async fn pending_outbound_count(&self) -> Result<i64, StoreError> {
        self.run(messages::pending_count).await
    }

    /// Rows per table, by table name (`GET /v1/stats/db/internal`).
    pub async fn table_rows(&self) -> Result<Vec<(&'static str, i64)>, StoreError> {
        self.run(stats::table_rows).await
    }

    /// The connection pool now: open connections, idle ones, and the most it may open.
    pub fn pool_state(&self) -> PoolState {
        self.inner.db.pool_state()
    }
}
