//! Cluster membership on every backend: the lease goes to exactly one contender, passes on only
//! after it expires (on the database's clock) with a new epoch, and a stale epoch writes nothing.
//! No test asserts a duration: expiry is waited for as a condition, with a generous timeout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::connect_to;
use wa_store::{
    testing::TestDb, Backend, Lease, NodeHeartbeat, NodeRole, NodeStatus, Store, StoreError,
};

on_every_backend!(
    of_two_contenders_exactly_one_takes_the_lease,
    an_expired_lease_passes_on_with_a_new_epoch,
    a_stale_epoch_cannot_assign_shards,
    an_expired_lease_that_nobody_took_cannot_write,
    heartbeats_register_nodes,
    node_ids_must_not_be_empty,
    advancing_the_epoch_fences_the_older_one,
);

/// Long enough never to run out during a test, however slow the machine.
const LONG: Duration = Duration::from_secs(600);
/// Short enough that waiting for it to run out keeps the test quick.
const SHORT: Duration = Duration::from_millis(300);
/// How long a test waits for a condition before failing.
const PATIENCE: Duration = Duration::from_secs(60);

/// Two stores on one database: two processes, each with its own pool.
async fn two_nodes(db: &TestDb) -> (Store, Store) {
    (connect_to(db).await, connect_to(db).await)
}

/// Retries `node`'s lease request until it gets the lease.
async fn acquire_eventually(store: &Store, node: &str) -> Lease {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(lease) = store.acquire_lease(node, LONG).await.unwrap() {
            return lease;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{node} never got the lease"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `lease` has expired on the database's clock.
async fn wait_until_expired(store: &Store, lease: &Lease) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while store.database_time_ms().await.unwrap() <= lease.expires_ms {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the lease never expired"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn of_two_contenders_exactly_one_takes_the_lease(backend: Backend) {
    let db = TestDb::new(backend);
    let (a, b) = two_nodes(&db).await;
    let (got_a, got_b) = tokio::join!(
        a.acquire_lease("master-a", LONG),
        b.acquire_lease("master-b", LONG)
    );
    let (got_a, got_b) = (got_a.unwrap(), got_b.unwrap());
    let (winner, winner_store, loser, loser_store) = match (&got_a, &got_b) {
        (Some(lease), None) => (lease.clone(), &a, "master-b", &b),
        (None, Some(lease)) => (lease.clone(), &b, "master-a", &a),
        other => panic!("exactly one contender must win: {other:?}"),
    };
    assert_eq!(winner.epoch, 1);
    assert_eq!(loser_store.current_lease().await.unwrap(), winner);
    assert_eq!(loser_store.acquire_lease(loser, LONG).await.unwrap(), None);

    // Renewing keeps the epoch; only a change of holder raises it.
    let renewed = winner_store
        .acquire_lease(&winner.holder, LONG)
        .await
        .unwrap()
        .expect("the holder renews");
    assert_eq!(renewed.epoch, winner.epoch);
    assert_eq!(renewed.holder, winner.holder);
    assert!(renewed.expires_ms >= winner.expires_ms);
}

async fn an_expired_lease_passes_on_with_a_new_epoch(backend: Backend) {
    let db = TestDb::new(backend);
    let (a, b) = two_nodes(&db).await;
    let first = a.acquire_lease("master-a", LONG).await.unwrap().unwrap();
    assert_eq!(b.acquire_lease("master-b", LONG).await.unwrap(), None);

    // master-a stops renewing: its last renewal runs out and master-b takes over.
    a.acquire_lease("master-a", SHORT).await.unwrap().unwrap();
    let second = acquire_eventually(&b, "master-b").await;
    assert_eq!(second.holder, "master-b");
    assert_eq!(second.epoch, first.epoch + 1);

    // The former holder can neither renew nor release what it no longer holds.
    assert_eq!(a.acquire_lease("master-a", LONG).await.unwrap(), None);
    assert!(!a.release_lease(&first).await.unwrap());

    // A release hands the lease on at once, again with a new epoch.
    assert!(b.release_lease(&second).await.unwrap());
    let third = a.acquire_lease("master-a", LONG).await.unwrap().unwrap();
    assert_eq!(third.epoch, second.epoch + 1);
}

async fn a_stale_epoch_cannot_assign_shards(backend: Backend) {
    let db = TestDb::new(backend);
    let (a, b) = two_nodes(&db).await;
    let first = a.acquire_lease("master-a", LONG).await.unwrap().unwrap();
    assert!(a.assign_shard(&first, 0, 2, "coreapp-1").await.unwrap());
    assert!(a.assign_shard(&first, 1, 2, "coreapp-2").await.unwrap());
    // Writing a row again updates it.
    assert!(a.assign_shard(&first, 1, 2, "coreapp-3").await.unwrap());

    a.acquire_lease("master-a", SHORT).await.unwrap().unwrap();
    let second = acquire_eventually(&b, "master-b").await;

    // master-a still believes it holds epoch 1: nothing it writes lands.
    assert!(!a.assign_shard(&first, 0, 2, "coreapp-9").await.unwrap());
    assert!(!a.assign_shard(&first, 5, 8, "coreapp-9").await.unwrap());
    assert_eq!(a.retire_shards(&first, 4).await.unwrap(), 0);
    let shards = b.shard_assignments().await.unwrap();
    let holders: Vec<(i32, &str, i64)> = shards
        .iter()
        .map(|shard| {
            (
                shard.shard_index,
                shard.holder_node.as_str(),
                shard.lease_epoch,
            )
        })
        .collect();
    assert_eq!(holders, [(0, "coreapp-1", 1), (1, "coreapp-3", 1)]);

    // The new holder writes under its own epoch, and moves to four shards.
    for (index, node) in ["coreapp-3", "coreapp-1", "coreapp-2", "coreapp-4"]
        .iter()
        .enumerate()
    {
        let index = i32::try_from(index).unwrap();
        assert!(b.assign_shard(&second, index, 4, node).await.unwrap());
    }
    assert_eq!(b.retire_shards(&second, 4).await.unwrap(), 0);
    let shards = b.shard_assignments().await.unwrap();
    assert_eq!(shards.len(), 4);
    assert!(shards
        .iter()
        .all(|shard| shard.shard_count == 4 && shard.lease_epoch == second.epoch));
    assert_eq!(shards[0].holder_node, "coreapp-3");

    // Back to two shards: the assignments of the four-shard layout beyond them go.
    assert!(b.assign_shard(&second, 0, 2, "coreapp-1").await.unwrap());
    assert!(b.assign_shard(&second, 1, 2, "coreapp-2").await.unwrap());
    assert_eq!(b.retire_shards(&second, 2).await.unwrap(), 2);
    assert_eq!(b.shard_assignments().await.unwrap().len(), 2);
}

async fn an_expired_lease_that_nobody_took_cannot_write(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let lease = store
        .acquire_lease("master-a", SHORT)
        .await
        .unwrap()
        .unwrap();
    wait_until_expired(&store, &lease).await;
    assert!(!store.assign_shard(&lease, 0, 1, "coreapp-1").await.unwrap());
    assert!(store.shard_assignments().await.unwrap().is_empty());

    // Renewing after the expiry keeps the epoch (nobody held it in between) and writes again.
    let renewed = store
        .acquire_lease("master-a", LONG)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renewed.epoch, lease.epoch);
    assert!(store
        .assign_shard(&renewed, 0, 1, "coreapp-1")
        .await
        .unwrap());
}

fn beat(node_id: &str, role: NodeRole, status: NodeStatus) -> NodeHeartbeat {
    NodeHeartbeat {
        node_id: node_id.to_string(),
        role,
        address: format!("{node_id}.internal:6250"),
        status,
    }
}

async fn heartbeats_register_nodes(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    store
        .heartbeat_node(beat("master-1", NodeRole::Master, NodeStatus::Ready))
        .await
        .unwrap();
    store
        .heartbeat_node(beat("coreapp-1", NodeRole::Coreapp, NodeStatus::Starting))
        .await
        .unwrap();
    let nodes = store.cluster_nodes().await.unwrap();
    let ids: Vec<&str> = nodes.iter().map(|node| node.node_id.as_str()).collect();
    assert_eq!(ids, ["coreapp-1", "master-1"]);
    assert_eq!(nodes[0].role, NodeRole::Coreapp);
    assert_eq!(nodes[0].status, NodeStatus::Starting);
    assert_eq!(nodes[0].address, "coreapp-1.internal:6250");
    assert_eq!(nodes[1].role, NodeRole::Master);
    assert!(nodes.iter().all(|node| node.heartbeat_age_ms >= 0));
    let first_beat = nodes[0].heartbeat_ms;

    // The next heartbeat updates the row; its time comes from the database and never goes back.
    store
        .heartbeat_node(beat("coreapp-1", NodeRole::Coreapp, NodeStatus::Ready))
        .await
        .unwrap();
    let nodes = store.cluster_nodes().await.unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0].status, NodeStatus::Ready);
    assert!(nodes[0].heartbeat_ms >= first_beat);
    assert!(nodes[0].heartbeat_ms <= store.database_time_ms().await.unwrap());

    assert!(store.remove_node("coreapp-1").await.unwrap());
    assert!(!store.remove_node("coreapp-1").await.unwrap());
    assert_eq!(store.cluster_nodes().await.unwrap().len(), 1);
}

async fn node_ids_must_not_be_empty(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    // The free lease's holder is the empty id; nobody may claim to be it.
    assert!(matches!(
        store.acquire_lease("", LONG).await,
        Err(StoreError::Config(_))
    ));
    assert!(matches!(
        store.acquire_lease("master-a", Duration::ZERO).await,
        Err(StoreError::Config(_))
    ));
    assert!(matches!(
        store
            .heartbeat_node(beat("", NodeRole::Master, NodeStatus::Ready))
            .await,
        Err(StoreError::Config(_))
    ));
    let lease = store.current_lease().await.unwrap();
    assert_eq!((lease.holder.as_str(), lease.epoch), ("", 0));
}

async fn advancing_the_epoch_fences_the_older_one(backend: Backend) {
    let db = TestDb::new(backend);
    let (a, b) = two_nodes(&db).await;
    let first = a.acquire_lease("master-a", LONG).await.unwrap().unwrap();
    let second = a
        .advance_lease_epoch(&first)
        .await
        .unwrap()
        .expect("the holder advances its epoch");
    assert_eq!(second.epoch, first.epoch + 1);
    assert_eq!(second.holder, "master-a");
    // The old epoch can neither advance again nor write; the new one writes.
    assert_eq!(a.advance_lease_epoch(&first).await.unwrap(), None);
    assert!(!a.assign_shard(&first, 0, 1, "coreapp-1").await.unwrap());
    assert!(a.assign_shard(&second, 0, 1, "coreapp-1").await.unwrap());
    // Renewing keeps the advanced epoch; another node cannot advance it.
    let renewed = a.acquire_lease("master-a", LONG).await.unwrap().unwrap();
    assert_eq!(renewed.epoch, second.epoch);
    let forged = Lease {
        holder: "master-b".to_string(),
        ..second.clone()
    };
    assert_eq!(b.advance_lease_epoch(&forged).await.unwrap(), None);
}
