//! Shard assignments, written only under the lease: every statement carries the fence, so a
//! master that lost the lease (or let it expire) changes nothing, even if it does not know yet.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

use super::lease::LEASE_ROW;
use super::types::{Lease, ShardAssignment};
use crate::db::{db_now, write_transaction, DbConnection};
use crate::schema::{cluster_lease, shard_assignments};
use crate::StoreError;

/// The lease row still held by `$lease`'s holder under its epoch and not expired on the
/// database's clock, as a filter of the writing statement itself.
macro_rules! lease_row_held_by {
    ($lease:expr) => {
        cluster_lease::table
            .filter(cluster_lease::id.eq(LEASE_ROW))
            .filter(cluster_lease::holder.eq(&$lease.holder))
            .filter(cluster_lease::epoch.eq($lease.epoch))
            .filter(cluster_lease::expires_ms.gt(db_now()))
    };
}

/// Gives shard `shard_index` of `shard_count` to `holder_node`; false, and nothing written, when
/// `lease` is not the current unexpired lease.
pub(crate) fn assign(
    conn: &mut DbConnection,
    lease: &Lease,
    shard_index: i32,
    shard_count: i32,
    holder_node: &str,
) -> Result<bool, StoreError> {
    write_transaction(conn, |conn| {
        let updated = diesel::update(
            shard_assignments::table
                .find(shard_index)
                .filter(diesel::dsl::exists(lease_row_held_by!(lease))),
        )
        .set((
            shard_assignments::shard_count.eq(shard_count),
            shard_assignments::holder_node.eq(holder_node),
            shard_assignments::lease_epoch.eq(lease.epoch),
        ))
        .execute(conn)?;
        if updated > 0 {
            return Ok(true);
        }
        // No row yet (or the fence failed): insert the row selected from the lease row, which
        // yields nothing when the fence fails.
        let fenced_row = lease_row_held_by!(lease).select((
            shard_index.into_sql::<Integer>(),
            shard_count.into_sql::<Integer>(),
            holder_node.into_sql::<Text>(),
            lease.epoch.into_sql::<BigInt>(),
        ));
        let inserted = diesel::insert_into(shard_assignments::table)
            .values(fenced_row)
            .into_columns((
                shard_assignments::shard_index,
                shard_assignments::shard_count,
                shard_assignments::holder_node,
                shard_assignments::lease_epoch,
            ))
            .execute(conn)?;
        Ok(inserted > 0)
    })
}

/// Removes the assignments of another shard count than `shard_count` (after the number of shards
/// changed), under the same fence; returns how many went.
pub(crate) fn retire(
    conn: &mut DbConnection,
    lease: &Lease,
    shard_count: i32,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        shard_assignments::table
            .filter(shard_assignments::shard_count.ne(shard_count))
            .filter(diesel::dsl::exists(lease_row_held_by!(lease))),
    )
    .execute(conn)?)
}

/// Every assignment, by shard index.
pub(crate) fn list(conn: &mut DbConnection) -> Result<Vec<ShardAssignment>, StoreError> {
    Ok(shard_assignments::table
        .order(shard_assignments::shard_index.asc())
        .select(ShardAssignment::as_select())
        .load(conn)?)
}
