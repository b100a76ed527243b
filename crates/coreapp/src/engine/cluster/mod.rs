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

use crate::state::CoreState;
use std::future::Future;
use std::sync::Arc;

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
