//! The cluster lease: one row, taken and renewed by compare-and-set on the database's clock.

use diesel::dsl::case_when;
use diesel::prelude::*;

use super::types::Lease;
use crate::db::{db_now, db_now_plus, write_transaction, DbConnection};
use crate::{schema::cluster_lease, StoreError};

/// The key of the lease's only row (the table allows no other).
pub(super) const LEASE_ROW: i32 = 1;

/// Takes the lease for `node_id` when it has expired, or renews it when `node_id` holds it, until
/// `ttl_ms` from now on the database's clock; `None` when another node holds it. One conditional
/// `UPDATE` is the compare-and-set, so of several contenders exactly one wins. The epoch grows
/// only when the holder changes. It is assigned before `holder` because MySQL evaluates the
/// assignments left to right, each seeing the ones before it.
pub(crate) fn acquire(
    conn: &mut DbConnection,
    node_id: &str,
    ttl_ms: i64,
) -> Result<Option<Lease>, StoreError> {
    write_transaction(conn, |conn| {
        let free_or_ours = cluster_lease::holder
            .eq(node_id)
            .or(cluster_lease::expires_ms.le(db_now()));
        let next_epoch = case_when(cluster_lease::holder.eq(node_id), cluster_lease::epoch)
            .otherwise(cluster_lease::epoch + 1);
        let taken = diesel::update(cluster_lease::table.find(LEASE_ROW).filter(free_or_ours))
            .set((
                cluster_lease::epoch.eq(next_epoch),
                cluster_lease::holder.eq(node_id),
                cluster_lease::expires_ms.eq(db_now_plus(ttl_ms)),
            ))
            .execute(conn)?;
        if taken == 0 {
            return Ok(None);
        }
        current(conn).map(Some)
    })
}

/// The lease as stored, whoever holds it and whether or not it has expired.
pub(crate) fn current(conn: &mut DbConnection) -> Result<Lease, StoreError> {
    Ok(cluster_lease::table
        .find(LEASE_ROW)
        .select(Lease::as_select())
        .first(conn)?)
}

/// Gives the lease up so another node can take it at once (a clean shutdown); false when `lease`
/// is no longer the stored one.
pub(crate) fn release(conn: &mut DbConnection, lease: &Lease) -> Result<bool, StoreError> {
    let released = diesel::update(
        cluster_lease::table
            .find(LEASE_ROW)
            .filter(cluster_lease::holder.eq(&lease.holder))
            .filter(cluster_lease::epoch.eq(lease.epoch)),
    )
    .set(cluster_lease::expires_ms.eq(0))
    .execute(conn)?;
    Ok(released > 0)
}

/// Raises the epoch of `lease` by one for the same holder, while it holds the lease unexpired;
/// `None` when it no longer does. The primary master does this before it moves a shard, so the
/// new holder's session carries an epoch newer than the old holder's.
pub(crate) fn advance(conn: &mut DbConnection, lease: &Lease) -> Result<Option<Lease>, StoreError> {
    write_transaction(conn, |conn| {
        let advanced = diesel::update(
            cluster_lease::table
                .find(LEASE_ROW)
                .filter(cluster_lease::holder.eq(&lease.holder))
                .filter(cluster_lease::epoch.eq(lease.epoch))
                .filter(cluster_lease::expires_ms.gt(db_now())),
        )
        .set(cluster_lease::epoch.eq(cluster_lease::epoch + 1))
        .execute(conn)?;
        if advanced == 0 {
            return Ok(None);
        }
        current(conn).map(Some)
    })
}
