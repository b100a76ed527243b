//! Cluster membership for High Availability and Multiconnect: the nodes and their heartbeats
//! (`nodes`), the one lease the masters compete for (`lease`), and which coreapp holds each shard
//! (`shards`), written only under the lease. Every time here is the database's clock.

mod lease;
mod nodes;
mod shards;
mod types;

pub(crate) use lease::{
    acquire as acquire_lease, advance as advance_lease, current as current_lease,
    release as release_lease,
};
pub(crate) use nodes::{database_time_ms, heartbeat, list as list_nodes, remove as remove_node};
pub(crate) use shards::{assign as assign_shard, list as list_shards, retire as retire_shards};
pub use types::{ClusterNode, Lease, NodeHeartbeat, NodeRole, NodeStatus, ShardAssignment};
