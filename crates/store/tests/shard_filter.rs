//! Multiconnect: a coreapp reads only its own shard's pending messages, filtered by the store's
//! query on the recipient's shard key (`wa_api::cluster::shard_key`), on every backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::connect_to;
use diesel::{Connection, RunQueryDsl};
use std::collections::BTreeSet;
use wa_api::cluster::{shard_of, SHARD_COUNTS};
use wa_store::{testing::TestDb, Backend, OutboundMessage, ShardSlice, Store};

on_every_backend!(
    each_shard_reads_exactly_its_recipients_messages,
    messages_stored_before_the_shard_key_get_it_at_start,
);

/// 64 recipients, some written with a `+` and spaces (the shard is of the digits).
fn recipients() -> Vec<String> {
    (0..64)
        .map(|i| match i % 3 {
            0 => format!("1631555{:04}", 1000 + i * 37),
            1 => format!("+44 7700 9{:05}", i * 131),
            _ => format!("49151{:07}", i * 7919),
        })
        .collect()
}

async fn store_pending(store: &Store, recipients: &[String]) {
    for (i, to) in recipients.iter().enumerate() {
        let message = OutboundMessage {
            id: format!("gB{i:03}"),
            to: to.clone(),
            msg_type: "text".to_string(),
            payload: "{}".to_string(),
            created_ms: i as i64,
        };
        // Half of them expire at 100, the others never.
        let expires = (i % 2 == 0).then_some(100);
        store
            .insert_outbound_expiring(message, expires)
            .await
            .unwrap();
    }
}

fn ids(messages: &[OutboundMessage]) -> BTreeSet<String> {
    messages.iter().map(|m| m.id.clone()).collect()
}

/// What `shard` should read: the recipients `shard_of` puts there.
fn expected(recipients: &[String], shard: ShardSlice, expiring_only: bool) -> BTreeSet<String> {
    recipients
        .iter()
        .enumerate()
        .filter(|(i, to)| {
            shard_of(to, shard.count) == shard.index && (!expiring_only || i % 2 == 0)
        })
        .map(|(i, _)| format!("gB{i:03}"))
        .collect()
}

async fn assert_every_slice(store: &Store, recipients: &[String]) {
    for count in SHARD_COUNTS {
        let mut seen = BTreeSet::new();
        for index in 0..count {
            let shard = ShardSlice { index, count };
            let pending = store
                .pending_outbound(100, vec![], Some(shard))
                .await
                .unwrap();
            assert_eq!(
                ids(&pending),
                expected(recipients, shard, false),
                "{shard:?}"
            );
            let expired = store
                .expired_outbound(100, 100, vec![], Some(shard))
                .await
                .unwrap();
            assert_eq!(
                ids(&expired),
                expected(recipients, shard, true),
                "{shard:?}"
            );
            seen.extend(ids(&pending));
        }
        assert_eq!(
            seen.len(),
            recipients.len(),
            "{count} shards cover every message"
        );
    }
    let all = store.pending_outbound(100, vec![], None).await.unwrap();
    assert_eq!(all.len(), recipients.len());
}

async fn each_shard_reads_exactly_its_recipients_messages(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let recipients = recipients();
    store_pending(&store, &recipients).await;
    assert_every_slice(&store, &recipients).await;
}

/// Rows written before the column existed have no key; the next start gives them one.
async fn messages_stored_before_the_shard_key_get_it_at_start(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let recipients = recipients();
    store_pending(&store, &recipients).await;
    drop(store);
    clear_shard_keys(&db);
    let shard = ShardSlice { index: 0, count: 2 };
    let store = connect_to(&db).await;
    assert!(!store
        .pending_outbound(100, vec![], Some(shard))
        .await
        .unwrap()
        .is_empty());
    assert_every_slice(&store, &recipients).await;
}

/// What an older version left: pending messages without a shard key.
fn clear_shard_keys(db: &TestDb) {
    let clear = diesel::sql_query("UPDATE messages SET shard_key = NULL");
    let cleared = match db.backend() {
        Backend::Mysql => clear.execute(&mut diesel::MysqlConnection::establish(&db.url).unwrap()),
        Backend::Postgres => clear.execute(&mut diesel::PgConnection::establish(&db.url).unwrap()),
        Backend::Sqlite => {
            let path = db.url.trim_start_matches("sqlite://");
            clear.execute(&mut diesel::SqliteConnection::establish(path).unwrap())
        }
    };
    assert_eq!(cleared.unwrap(), 64);
}
