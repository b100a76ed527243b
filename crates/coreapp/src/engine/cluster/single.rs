//! A single node (no cluster settings) on MySQL/MariaDB or PostgreSQL: it connects only when no
//! other coreapp is live on the same database, instead of flapping with it over the number's one
//! connection (two connections for one number can get it banned). While another one is live
//! it stays disconnected and says why in the log; once it connects it heartbeats like a
//! cluster node, so a second single node started later sees it. A restart on the same host and
//! port is the same node (its directory id is its address), not a rival.

use crate::state::CoreState;
use std::sync::Arc;
use wa_api::health::GatewayStatus;
use wa_store::{ClusterNode, NodeHeartbeat, NodeRole, NodeStatus, StoreError};

pub async fn guard(state: Arc<CoreState>) {
    let cluster = &state.cluster;
    let mut warned = false;
    loop {
        let app = state.settings.current();
        let every = cluster.heartbeat_interval(&app);
        let unhealthy_ms =
            i64::try_from(cluster.unhealthy_interval(&app).as_millis()).unwrap_or(i64::MAX);
        if cluster.shard().is_none() {
            match rivals(&state, unhealthy_ms).await {
                Ok(rivals) if rivals.is_empty() => cluster.claim_single(),
                Ok(rivals) => {
                    if !warned {
                        tracing::error!(
                            "another coreapp is live on this database ({}); this single-node \
                             coreapp does not connect to the network while it runs (use \
                             WA_MASTER_NODE / WA_APP_MULTICONNECT for a cluster)",
                            rivals.join(", ")
                        );
                        warned = true;
                    }
                    state.set_gateway(GatewayStatus::Disconnected);
                }
                Err(e) => tracing::warn!("cannot read the cluster directory: {e}"),
            }
        }
        if cluster.shard().is_some() {
            if let Err(e) = beat(&state).await {
                tracing::warn!("single-node heartbeat failed: {e}");
            }
        }
        tokio::time::sleep(every).await;
    }
}

/// Coreapps and masters other than this one whose heartbeat is younger than `unhealthy_ms`.
async fn rivals(state: &CoreState, unhealthy_ms: i64) -> Result<Vec<String>, StoreError> {
    let me = state.cluster.directory_id();
    let nodes: Vec<ClusterNode> = state.store.cluster_nodes().await?;
    Ok(nodes
        .into_iter()
        .filter(|n| n.node_id != me && n.heartbeat_age_ms < unhealthy_ms)
        .map(|n| format!("{} at {}", n.node_id, n.address))
        .collect())
}

async fn beat(state: &CoreState) -> Result<(), StoreError> {
    let id = state.cluster.directory_id();
    state
        .store
        .heartbeat_node(NodeHeartbeat {
            node_id: id.clone(),
            role: NodeRole::Coreapp,
            address: id,
            // Never a candidate for a cluster's shards: a single node takes no assignment.
            status: NodeStatus::Starting,
        })
        .await
}
