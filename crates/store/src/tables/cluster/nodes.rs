//! Nodes register and heartbeat; the database's clock stamps each heartbeat.

use diesel::prelude::*;

use super::types::{ClusterNode, NodeHeartbeat, NodeRole, NodeStatus};
use crate::db::{db_now, DbConnection};
use crate::{schema::cluster_nodes, StoreError};

/// A node's row as stored.
#[derive(Queryable, Selectable)]
#[diesel(table_name = cluster_nodes)]
struct NodeRow {
    node_id: String,
    role: String,
    address: String,
    heartbeat_ms: i64,
    status: String,
}

/// Registers the node or refreshes its row, stamping the heartbeat with the database's time.
/// Update first (every heartbeat after the first), insert when no row matched; a node racing
/// its own restart loses the insert to the unique key and updates on the next round.
pub(crate) fn heartbeat(conn: &mut DbConnection, beat: &NodeHeartbeat) -> Result<(), StoreError> {
    for _round in 0..2 {
        let updated = diesel::update(cluster_nodes::table.find(&beat.node_id))
            .set((
                cluster_nodes::role.eq(beat.role.as_str()),
                cluster_nodes::address.eq(&beat.address),
                cluster_nodes::status.eq(beat.status.as_str()),
                cluster_nodes::heartbeat_ms.eq(db_now()),
            ))
            .execute(conn)?;
        if updated > 0 {
            return Ok(());
        }
        let inserted = diesel::insert_into(cluster_nodes::table)
            .values((
                cluster_nodes::node_id.eq(&beat.node_id),
                cluster_nodes::role.eq(beat.role.as_str()),
                cluster_nodes::address.eq(&beat.address),
                cluster_nodes::status.eq(beat.status.as_str()),
                cluster_nodes::heartbeat_ms.eq(db_now()),
            ))
            .execute(conn)
            .map_err(StoreError::from);
        match inserted {
            Err(StoreError::Conflict) => continue,
            other => return other.map(|_| ()),
        }
    }
    Err(StoreError::Conflict)
}

/// The database's time now, unix milliseconds.
pub(crate) fn database_time_ms(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(diesel::select(db_now()).get_result(conn)?)
}

/// Every registered node, by id, with the age of its heartbeat on the database's clock.
pub(crate) fn list(conn: &mut DbConnection) -> Result<Vec<ClusterNode>, StoreError> {
    let now = database_time_ms(conn)?;
    let rows = cluster_nodes::table
        .order(cluster_nodes::node_id.asc())
        .select(NodeRow::as_select())
        .load(conn)?;
    rows.into_iter().map(|row| row.into_node(now)).collect()
}

/// False when no such node was registered.
pub(crate) fn remove(conn: &mut DbConnection, node_id: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(cluster_nodes::table.find(node_id)).execute(conn)? > 0)
}

impl NodeRow {
    fn into_node(self, now_ms: i64) -> Result<ClusterNode, StoreError> {
        Ok(ClusterNode {
            role: NodeRole::parse(&self.role)?,
            status: NodeStatus::parse(&self.status)?,
            heartbeat_age_ms: now_ms.saturating_sub(self.heartbeat_ms),
            node_id: self.node_id,
            address: self.address,
            heartbeat_ms: self.heartbeat_ms,
        })
    }
}
