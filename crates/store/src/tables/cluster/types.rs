//! The cluster's rows and the enums stored as text in them.

use diesel::prelude::*;

use crate::schema::{cluster_lease, shard_assignments};
use crate::StoreError;

/// What a node of the cluster is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeRole {
    /// Competes for the lease; the holder assigns shards.
    Master,
    /// Holds the number's connection for the shards assigned to it.
    Coreapp,
}

/// What a node says about itself in its heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeStatus {
    Starting,
    Ready,
    Stopping,
}

/// One heartbeat: who the node is, where it listens and how it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeHeartbeat {
    pub node_id: String,
    pub role: NodeRole,
    /// Where the other nodes reach it (`host:port`).
    pub address: String,
    pub status: NodeStatus,
}

/// A registered node as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNode {
    pub node_id: String,
    pub role: NodeRole,
    pub address: String,
    pub status: NodeStatus,
    /// The last heartbeat, database clock, unix milliseconds.
    pub heartbeat_ms: i64,
    /// How long ago that was when the list was read, on the database clock; a node is unhealthy
    /// once this passes `unhealthy_interval`.
    pub heartbeat_age_ms: i64,
}

/// The cluster lease. `holder` is empty while nobody ever held it. `epoch` grows by one at every
/// change of holder; a write under the lease names the epoch it holds, so a former holder's
/// writes are refused (fencing).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = cluster_lease)]
pub struct Lease {
    pub holder: String,
    pub epoch: i64,
    /// Database clock, unix milliseconds.
    pub expires_ms: i64,
}

/// Which coreapp holds one shard, and under which lease epoch the primary master wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = shard_assignments)]
pub struct ShardAssignment {
    pub shard_index: i32,
    pub shard_count: i32,
    pub holder_node: String,
    pub lease_epoch: i64,
}

impl NodeRole {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            NodeRole::Master => "master",
            NodeRole::Coreapp => "coreapp",
        }
    }

    pub(super) fn parse(stored: &str) -> Result<Self, StoreError> {
        match stored {
            "master" => Ok(NodeRole::Master),
            "coreapp" => Ok(NodeRole::Coreapp),
            other => Err(unknown("node role", other)),
        }
    }
}

impl NodeStatus {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            NodeStatus::Starting => "starting",
            NodeStatus::Ready => "ready",
            NodeStatus::Stopping => "stopping",
        }
    }

    pub(super) fn parse(stored: &str) -> Result<Self, StoreError> {
        match stored {
            "starting" => Ok(NodeStatus::Starting),
            "ready" => Ok(NodeStatus::Ready),
            "stopping" => Ok(NodeStatus::Stopping),
            other => Err(unknown("node status", other)),
        }
    }
}

fn unknown(what: &str, stored: &str) -> StoreError {
    StoreError::Query(format!("unknown {what} {stored:?} in cluster_nodes"))
}
