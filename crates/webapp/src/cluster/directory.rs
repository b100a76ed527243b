//! The cluster as the webapp sees it: the nodes, which master holds the lease, and which coreapp
//! holds each shard, read from the shared database (the nodes register and heartbeat there).

use rand::seq::SliceRandom;
use std::collections::BTreeMap;
use wa_api::cluster::{shard_of, NodeRole};
use wa_store::{ClusterNode, NodeStatus, Store, StoreError};

/// One node of the cluster.
#[derive(Debug, Clone)]
pub struct Node {
    /// `"<hostname>:<12 hex>"`: its key in the nested health, support and stats answers.
    pub id: String,
    pub role: NodeRole,
    /// `host:port` of its RPC listener.
    pub address: String,
    /// Heartbeat younger than the unhealthy interval, and ready.
    pub healthy: bool,
}

/// A snapshot of the directory.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub nodes: Vec<Node>,
    /// The shard count in force (1 with no assignment yet).
    pub shard_count: u32,
    /// The node holding each shard.
    pub holders: BTreeMap<u32, String>,
}

impl Directory {
    /// Reads the directory; a node whose heartbeat is older than `unhealthy_ms` is unhealthy.
    pub async fn read(store: &Store, unhealthy_ms: i64) -> Result<Directory, StoreError> {
        let nodes = store.cluster_nodes().await?;
        let lease = store.current_lease().await?;
        let now = store.database_time_ms().await?;
        let primary = (lease.expires_ms > now).then_some(lease.holder);
        let assignments = store.shard_assignments().await?;
        let shard_count = assignments
            .iter()
            .map(|a| u32::try_from(a.shard_count).unwrap_or(1))
            .max()
            .unwrap_or(1);
        let holders = assignments
            .into_iter()
            .filter(|a| u32::try_from(a.shard_count).ok() == Some(shard_count))
            .filter_map(|a| Some((u32::try_from(a.shard_index).ok()?, a.holder_node)))
            .collect();
        let nodes = nodes
            .into_iter()
            .map(|n| node(n, primary.as_deref(), unhealthy_ms))
            .collect();
        Ok(Directory {
            nodes,
            shard_count,
            holders,
        })
    }

    /// The primary master, if one holds an unexpired lease.
    pub fn primary(&self) -> Option<&Node> {
        self.nodes
            .iter()
            .find(|n| n.role == NodeRole::PrimaryMaster)
    }

    /// The coreapp holding the shard of recipient `to`.
    pub fn holder_of(&self, to: &str) -> Option<&Node> {
        let holder = self.holders.get(&shard_of(to, self.shard_count))?;
        self.nodes.iter().find(|n| &n.id == holder)
    }

    /// A random healthy coreapp holding a shard (spreading the calls any connected node may
    /// answer; a standby is not connected and would answer 1011), else a random healthy
    /// coreapp, else any healthy node.
    pub fn any(&self) -> Option<&Node> {
        let holds = |n: &Node| self.holders.values().any(|id| id == &n.id);
        let coreapp = |n: &Node| n.role == NodeRole::Coreapp;
        let preferences: [&dyn Fn(&Node) -> bool; 3] =
            [&|n| coreapp(n) && holds(n), &coreapp, &|_| true];
        preferences.iter().find_map(|keep| {
            let pool: Vec<&Node> = self.nodes.iter().filter(|n| n.healthy && keep(n)).collect();
            pool.choose(&mut rand::thread_rng()).copied()
        })
    }

    /// Whether any node is registered (the webapp then routes through the directory).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

fn node(n: ClusterNode, primary: Option<&str>, unhealthy_ms: i64) -> Node {
    let role = match n.role {
        wa_store::NodeRole::Coreapp => NodeRole::Coreapp,
        wa_store::NodeRole::Master if primary == Some(n.node_id.as_str()) => {
            NodeRole::PrimaryMaster
        }
        wa_store::NodeRole::Master => NodeRole::SecondaryMaster,
    };
    Node {
        healthy: n.heartbeat_age_ms < unhealthy_ms && n.status == NodeStatus::Ready,
        id: n.node_id,
        role,
        address: n.address,
    }
}
