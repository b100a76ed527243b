//! Cluster membership: heartbeats, the masters' lease and the shard assignments. Every time is
//! the database's clock, so the nodes' own clocks never need to agree.

use std::time::Duration;

use super::Store;
use crate::tables::cluster::{self, ClusterNode, Lease, NodeHeartbeat, ShardAssignment};
use crate::StoreError;

impl Store {
    /// Registers the node, or refreshes its address, status and heartbeat time.
    pub async fn heartbeat_node(&self, beat: NodeHeartbeat) -> Result<(), StoreError> {
        check_node_id(&beat.node_id)?;
        self.run(move |conn| cluster::heartbeat(conn, &beat)).await
    }

    /// Every registered node, by id, with the age of its last heartbeat.
    pub async fn cluster_nodes(&self) -> Result<Vec<ClusterNode>, StoreError> {
        self.run(cluster::list_nodes).await
    }

    /// Forgets a node (it left the cluster); false when it was not registered.
    pub async fn remove_node(&self, node_id: &str) -> Result<bool, StoreError> {
        let node_id = node_id.to_string();
        self.run(move |conn| cluster::remove_node(conn, &node_id))
            .await
    }

    /// Takes the lease for `node_id` if it is free or expired, or renews it if `node_id` holds
    /// it, for `ttl` from now; `None` while another node holds it. Of several nodes asking at
    /// once, exactly one gets it. A holder renews well before `ttl` runs out.
    pub async fn acquire_lease(
        &self,
        node_id: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        check_node_id(node_id)?;
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        if ttl_ms == 0 {
            return Err(StoreError::Config(
                "a lease needs a time to live of at least 1 ms".to_string(),
            ));
        }
        let node_id = node_id.to_string();
        self.run(move |conn| cluster::acquire_lease(conn, &node_id, ttl_ms))
            .await
    }

    /// The lease as stored, held or not; compare its expiry with
    /// [`Store::database_time_ms`], never with the local clock.
    pub async fn current_lease(&self) -> Result<Lease, StoreError> {
        self.run(cluster::current_lease).await
    }

    /// Raises the epoch of `lease`, still held by the same node, by one; `None` when `lease` is
    /// no longer the current unexpired lease. Before moving a shard to another coreapp the
    /// primary master advances the epoch, so the new holder's network session outranks the old
    /// holder's.
    pub async fn advance_lease_epoch(&self, lease: &Lease) -> Result<Option<Lease>, StoreError> {
        let lease = lease.clone();
        self.run(move |conn| cluster::advance_lease(conn, &lease))
            .await
    }

    /// Gives the lease up at once (a clean shutdown); false when `lease` is no longer current.
    pub async fn release_lease(&self, lease: &Lease) -> Result<bool, StoreError> {
        let lease = lease.clone();
        self.run(move |conn| cluster::release_lease(conn, &lease))
            .await
    }

    /// Gives shard `shard_index` of `shard_count` to the coreapp `holder_node`, as the holder of
    /// `lease`; false, and nothing written, when `lease` is no longer the current unexpired lease
    /// (checked in the writing statement itself).
    pub async fn assign_shard(
        &self,
        lease: &Lease,
        shard_index: i32,
        shard_count: i32,
        holder_node: &str,
    ) -> Result<bool, StoreError> {
        let (lease, holder_node) = (lease.clone(), holder_node.to_string());
        self.run(move |conn| {
            cluster::assign_shard(conn, &lease, shard_index, shard_count, &holder_node)
        })
        .await
    }

    /// Removes the assignments made for another shard count than `shard_count`, under the same
    /// fence as [`Store::assign_shard`]; returns how many went (0 also when the fence failed).
    pub async fn retire_shards(
        &self,
        lease: &Lease,
        shard_count: i32,
    ) -> Result<usize, StoreError> {
        let lease = lease.clone();
        self.run(move |conn| cluster::retire_shards(conn, &lease, shard_count))
            .await
    }

    /// Every shard assignment, by shard index.
    pub async fn shard_assignments(&self) -> Result<Vec<ShardAssignment>, StoreError> {
        self.run(cluster::list_shards).await
    }

    /// The database's time now, unix milliseconds: the clock leases and heartbeats are read on.
    pub async fn database_time_ms(&self) -> Result<i64, StoreError> {
        self.run(cluster::database_time_ms).await
    }
}

/// An empty id would match the lease's "held by nobody" holder.
fn check_node_id(node_id: &str) -> Result<(), StoreError> {
    if node_id.is_empty() || node_id.chars().count() > 128 {
        return Err(StoreError::Config(
            "a node id must have 1 to 128 characters".to_string(),
        ));
    }
    Ok(())
}
