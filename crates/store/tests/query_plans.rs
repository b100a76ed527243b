//! The plans each database chooses for the message pipeline's hot reads and writes: every one
//! reaches its rows through the index meant for it, whatever the table statistics say.
//!
//! The statistics are set up the way a new installation gets them: the planner's statistics are
//! taken after the first inbound messages and before any outbound one (the benchmark opens its
//! customer-service windows first). On PostgreSQL that made the status update, whose condition
//! names `direction = 'out'`, pick an index on `(direction, ...)` over the primary key: it
//! estimated one outbound row and then read every outbound message for each status it recorded
//! (docs/performance.md, "PostgreSQL"). The statements below are the store's, with literals for
//! the parameters (`advance_status` in `tables/messages/status.rs`, `pending_outbound` in
//! `tables/messages/queries.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::connect_to;
use wa_store::{
    testing::{self, TestDb},
    Backend, InboundMessage, NewCallback, OutboundMessage, Store,
};

on_every_backend!(
    the_status_update_finds_its_message_by_primary_key,
    pending_messages_are_read_in_index_order,
);

/// Inbound messages before the statistics are taken; outbound messages after, more than the
/// delivery worker reads at once (`LIMIT 256`), as under load.
const INBOUND: usize = 50;
const OUTBOUND: usize = 1_000;

const STATUS_UPDATE: &str = "UPDATE messages SET status = 'sent', updated_ms = 5 \
    WHERE id = 'gB150' AND direction = 'out' AND (CASE status WHEN 'pending' THEN 0 \
    WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'failed' THEN 4 \
    ELSE 0 END) BETWEEN 0 AND 0";

const PENDING_READ: &str = "SELECT id, peer, msg_type, payload, created_ms FROM messages \
    WHERE status = 'pending' AND direction = 'out' ORDER BY created_ms ASC, id ASC LIMIT 256";

/// A store whose statistics were taken when it held inbound messages only, then outbound
/// messages stored after that.
async fn store_with_early_statistics(db: &TestDb) -> Store {
    let store = connect_to(db).await;
    let inbound = (0..INBOUND).map(|n| {
        let message = InboundMessage {
            id: format!("in{n}"),
            from: format!("1631555{n:04}"),
            msg_type: "text".to_string(),
            payload: "{}".to_string(),
            received_ms: n as i64,
        };
        (message, webhook(&format!("inbound:in{n}")))
    });
    for stored in store.insert_inbound_batch(inbound.collect()).await.unwrap() {
        assert!(stored);
    }
    if let Some(analyze) = analyze(db.backend()) {
        testing::execute_sql(&db.url, analyze).unwrap();
    }
    // Concurrent, so that they share commits.
    let writes = (0..OUTBOUND).map(|n| {
        let store = store.clone();
        tokio::spawn(async move {
            let message = OutboundMessage {
                id: format!("gB{n}"),
                to: format!("1631555{:04}", n % INBOUND),
                msg_type: "text".to_string(),
                payload: "{}".to_string(),
                created_ms: 1_000 + (n / 3) as i64,
            };
            store.insert_outbound(message).await.unwrap();
        })
    });
    for write in writes.collect::<Vec<_>>() {
        write.await.unwrap();
    }
    store
}

fn webhook(key: &str) -> NewCallback {
    NewCallback {
        event_key: key.to_string(),
        kind: "status_change".to_string(),
        body: "{}".to_string(),
        cloud: false,
    }
}

/// Takes the planner's statistics of `messages`, as PostgreSQL's autovacuum and
/// InnoDB's automatic recalculation do on their own. SQLite has statistics only when `ANALYZE`
/// is run, which the store never does, so its planner keeps to its fixed rules.
fn analyze(backend: Backend) -> Option<&'static str> {
    match backend {
        Backend::Mysql => Some("ANALYZE TABLE messages"),
        Backend::Postgres => Some("ANALYZE messages"),
        Backend::Sqlite => None,
    }
}

/// How each backend names a lookup through the primary key of `messages` in its plan.
fn primary_key_lookup(backend: Backend) -> &'static str {
    match backend {
        Backend::Mysql => "\"key\": \"PRIMARY\"",
        Backend::Postgres => "Index Scan using messages_pkey",
        // A TEXT primary key is a unique index of its own on SQLite.
        Backend::Sqlite => "USING INDEX sqlite_autoindex_messages_1 (id=?)",
    }
}

/// How each backend says that it sorts rows after reading them.
fn sorts(backend: Backend) -> &'static str {
    match backend {
        Backend::Mysql => "filesort",
        Backend::Postgres => "Sort",
        Backend::Sqlite => "TEMP B-TREE",
    }
}

async fn the_status_update_finds_its_message_by_primary_key(backend: Backend) {
    let db = TestDb::new(backend);
    let _store = store_with_early_statistics(&db).await;
    let plan = testing::explain(&db.url, STATUS_UPDATE).unwrap();
    assert!(
        plan.contains(primary_key_lookup(backend)),
        "the status update does not look its message up by primary key:\n{plan}"
    );
}

async fn pending_messages_are_read_in_index_order(backend: Backend) {
    let db = TestDb::new(backend);
    let _store = store_with_early_statistics(&db).await;
    let plan = testing::explain(&db.url, PENDING_READ).unwrap();
    assert!(
        !plan.contains(sorts(backend)) && plan.contains("messages_status_created_id"),
        "pending messages are not read in the order of their index:\n{plan}"
    );
}
