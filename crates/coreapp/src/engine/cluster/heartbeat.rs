//! Every node's heartbeat: one row of `cluster_nodes` refreshed every `heartbeat_interval` on
//! the database's clock. Each beat also follows the application settings the primary master
//! writes and, on a coreapp, reads the shard the primary assigned to it. A node whose beats do
//! not reach the database fences itself before the primary can declare it unhealthy, so an
//! assignment that moved never has two senders.

use crate::state::cluster::ShardHold;
use crate::state::CoreState;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wa_store::{NodeHeartbeat, NodeRole, NodeStatus, StoreError};

pub async fn run(state: Arc<CoreState>) {
    tokio::join!(beats(state.clone()), watchdog(state));
}

async fn beats(state: Arc<CoreState>) {
    loop {
        let every = state.cluster.heartbeat_interval(&state.settings.current());
        match tokio::time::timeout(every.max(Duration::from_millis(500)), beat(&state)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("cluster: heartbeat failed: {e}"),
            Err(_) => tracing::warn!("cluster: heartbeat timed out"),
        }
        tokio::time::sleep(every).await;
    }
}

/// Fences this node the moment its last accepted heartbeat is `unhealthy_interval` minus one
/// beat old, whatever the beat loop is waiting for (a partitioned database does not answer, so
/// a beat can hang until its timeout): the primary master moves a shard only once the
/// database's copy of the heartbeat is `unhealthy_interval` old, so this node has stopped
/// sending at least a beat before. While the database stays out of reach it fences again
/// every beat.
async fn watchdog(state: Arc<CoreState>) {
    loop {
        let app = state.settings.current();
        let every = state.cluster.heartbeat_interval(&app);
        let fence_after = state.cluster.unhealthy_interval(&app).saturating_sub(every);
        let now = Instant::now();
        match state.cluster.fence_deadline(fence_after) {
            Some(deadline) if deadline <= now => {
                state.fence("the database has not taken a heartbeat for unhealthy_interval");
                tokio::time::sleep(every).await;
            }
            // Wake at the deadline, or sooner to follow a settings change or a new beat.
            Some(deadline) => tokio::time::sleep_until(deadline.min(now + every).into()).await,
            None => tokio::time::sleep(every).await,
        }
    }
}

async fn beat(state: &Arc<CoreState>) -> Result<(), StoreError> {
    let cluster = &state.cluster;
    let role = if cluster.master {
        NodeRole::Master
    } else {
        NodeRole::Coreapp
    };
    let sent = Instant::now();
    state
        .store
        .heartbeat_node(NodeHeartbeat {
            node_id: cluster.node_id.clone(),
            role,
            address: cluster.address(),
            status: NodeStatus::Ready,
        })
        .await?;
    cluster.beat_accepted(sent);
    state.settings.refresh(&state.store).await?;
    state.load_cloud_webhooks().await?;
    if !cluster.master {
        follow_assignment(state).await?;
    }
    Ok(())
}

/// Takes the shard the directory names for this coreapp; a shard that moved or changed epoch
/// closes the current session first.
async fn follow_assignment(state: &Arc<CoreState>) -> Result<(), StoreError> {
    let rows = state.store.shard_assignments().await?;
    let hold = rows
        .iter()
        .find(|row| row.holder_node == state.cluster.node_id)
        .map(|row| ShardHold {
            index: u32::try_from(row.shard_index).unwrap_or(0),
            count: u32::try_from(row.shard_count).unwrap_or(1),
            epoch: row.lease_epoch,
        });
    let current = state.cluster.shard();
    if current != hold {
        if current.is_some() {
            state.fence("the primary master moved this coreapp's shard");
        }
        state.cluster.set_shard(hold);
    }
    Ok(())
}
