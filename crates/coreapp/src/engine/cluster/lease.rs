//! The masters' lease: every `heartbeat_interval` each master asks for it (the holder renews it)
//! with `unhealthy_interval` to live. The holder is the primary master; a master that cannot
//! renew stops acting as primary at once, before the lease can pass to another master.

use crate::state::CoreState;
use std::sync::Arc;

pub async fn run(state: Arc<CoreState>) {
    let cluster = &state.cluster;
    loop {
        let app = state.settings.current();
        let every = cluster.heartbeat_interval(&app);
        let ttl = cluster.unhealthy_interval(&app);
        // A slow database is not a lost lease: wait up to a third of its life for the answer.
        let patience = every.max(ttl / 3);
        let asked =
            tokio::time::timeout(patience, state.store.acquire_lease(&cluster.node_id, ttl));
        match asked.await {
            Ok(Ok(lease)) => cluster.set_lease(lease),
            Ok(Err(e)) => {
                tracing::warn!("cluster: the lease request failed: {e}");
                cluster.set_lease(None);
            }
            Err(_) => {
                tracing::warn!("cluster: the lease request timed out");
                cluster.set_lease(None);
            }
        }
        tokio::time::sleep(every).await;
    }
}
