//! The primary master's shard assignment: every `heartbeat_interval` (and at once when the
//! shard count changes or this master becomes primary) each shard gets a healthy coreapp
//! (heartbeat younger than `unhealthy_interval`, status ready): healthy holders keep their
//! shards, the others go to standbys. Every write carries the lease (fenced in the statement);
//! before a pass that takes a shard from another holder, or retires a shard count, the epoch is
//! advanced so the new holders' network sessions outrank the old ones.

use crate::domain::shards;
use crate::state::CoreState;
use std::sync::Arc;
use wa_store::{Lease, NodeRole, NodeStatus, StoreError};

pub async fn run(state: Arc<CoreState>) {
    let cluster = &state.cluster;
    loop {
        let app = state.settings.current();
        let every = cluster.heartbeat_interval(&app);
        let unhealthy = cluster.unhealthy_interval(&app);
        if let Some(lease) = cluster.lease() {
            let unhealthy_ms = i64::try_from(unhealthy.as_millis()).unwrap_or(i64::MAX);
            match tokio::time::timeout(every * 2, assign(&state, lease, unhealthy_ms)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!("cluster: shard assignment failed: {e}"),
                Err(_) => tracing::warn!("cluster: shard assignment timed out"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = cluster.reassign.notified() => {}
        }
    }
}

async fn assign(state: &CoreState, lease: Lease, unhealthy_ms: i64) -> Result<(), StoreError> {
    let store = &state.store;
    let count = shards::stored_count(store).await?;
    let count_i32 = i32::try_from(count).unwrap_or(1);
    let mut healthy: Vec<String> = store
        .cluster_nodes()
        .await?
        .into_iter()
        .filter(|n| n.role == NodeRole::Coreapp && n.status == NodeStatus::Ready)
        .filter(|n| n.heartbeat_age_ms < unhealthy_ms)
        .map(|n| n.node_id)
        .collect();
    healthy.sort();
    let mut rows = store.shard_assignments().await?;
    let retiring = rows.iter().any(|row| row.shard_count != count_i32);
    let changes = shards::plan(count, &rows, &healthy);
    let replacing = changes.iter().any(|(index, _)| {
        rows.iter()
            .any(|row| row.shard_index == *index as i32 && row.shard_count == count_i32)
    });
    if changes.is_empty() && !retiring {
        return Ok(());
    }
    let Some(lease) = fresh_epoch(state, lease, retiring || replacing).await? else {
        return Ok(());
    };
    if retiring {
        store.retire_shards(&lease, count_i32).await?;
        rows = store.shard_assignments().await?;
    }
    for (index, holder) in shards::plan(count, &rows, &healthy) {
        if !store
            .assign_shard(&lease, index as i32, count_i32, &holder)
            .await?
        {
            tracing::warn!("cluster: the lease was lost while assigning shards");
            state.cluster.set_lease(None);
            return Ok(());
        }
        tracing::info!(
            "cluster: shard {index} of {count} assigned to {holder} (epoch {})",
            lease.epoch
        );
    }
    Ok(())
}

/// The lease to write under: advanced to a new epoch when `advance`; `None` when it was lost.
async fn fresh_epoch(
    state: &CoreState,
    lease: Lease,
    advance: bool,
) -> Result<Option<Lease>, StoreError> {
    if !advance {
        return Ok(Some(lease));
    }
    let advanced = state.store.advance_lease_epoch(&lease).await?;
    if advanced.is_none() {
        tracing::warn!("cluster: the lease was lost before moving shards");
    }
    state.cluster.set_lease(advanced.clone());
    Ok(advanced)
}
