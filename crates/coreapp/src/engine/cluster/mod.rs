//! High Availability and Multiconnect (docs/ha.md): the loops that keep this node's place in the
//! cluster, started by the supervisor in cluster mode only.
//! - `heartbeat` (every node): registers and heartbeats, follows the settings the primary
//!   writes, reads this coreapp's shard, and fences the node when the database stops taking
//!   its heartbeats;
//! - `lease` (masters): competes for the lease; its holder is the primary master;
//! - `assignment` (masters, acting while primary): gives every shard a healthy coreapp.

pub mod assignment;
pub mod heartbeat;
pub mod lease;
pub mod single;

use crate::state::CoreState;
use std::future::Future;
use std::sync::Arc;

/// A clean stop: closes the session, gives the lease up and leaves the directory, so another
/// master or a standby takes over at its next beat instead of after `unhealthy_interval`.
pub async fn leave(state: &CoreState) {
    if !state.cluster.enabled && !state.cluster.guarded {
        return;
    }
    state.fence("stopping");
    // The stored lease, not the last one this node saw: a renewal that timed out may have
    // landed after all.
    match state.store.current_lease().await {
        Ok(lease) if lease.holder == state.cluster.node_id => {
            if let Err(e) = state.store.release_lease(&lease).await {
                tracing::warn!("cluster: could not release the lease: {e}");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("cluster: could not read the lease: {e}"),
    }
    let id = state.cluster.directory_id();
    match state.store.remove_node(&id).await {
        Ok(_) => tracing::info!("cluster: node {id} left"),
        Err(e) => tracing::warn!("cluster: could not leave the directory: {e}"),
    }
}

/// Runs `task` while this node is the primary master (always on a single node) and stops it
/// as soon as it is not: the work that must happen once per cluster (webhook dispatcher,
/// garbage collection) runs only there.
pub async fn while_primary<F, Fut>(state: Arc<CoreState>, task: F)
where
    F: Fn(Arc<CoreState>) -> Fut,
    Fut: Future<Output = ()>,
{
    if !state.cluster.enabled {
        return task(state).await;
    }
    let mut role = state.cluster.subscribe_role();
    loop {
        if role
            .wait_for(|r| *r == wa_api::cluster::NodeRole::PrimaryMaster)
            .await
            .is_err()
        {
            return;
        }
        tokio::select! {
            _ = task(state.clone()) => return,
            _ = role.wait_for(|r| *r != wa_api::cluster::NodeRole::PrimaryMaster) => {}
        }
    }
}
