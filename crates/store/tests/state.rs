//! wanet's generic state table, on every backend: puts replace, deletes remove, a reconnect
//! reads back what was written, and the product's schema is untouched by it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;
use wa_store::{testing::TestDb, Backend, StateChange, StateRow, StateStore};

on_every_backend!(puts_replace_and_deletes_remove, large_documents_survive,);

fn put(kind: &str, key: &str, value: &str) -> StateChange {
    StateChange::Put {
        kind: kind.into(),
        key: key.into(),
        value: value.into(),
    }
}

fn sorted(mut rows: Vec<StateRow>) -> Vec<(String, String, String)> {
    rows.sort_by(|a, b| (&a.kind, &a.key).cmp(&(&b.kind, &b.key)));
    rows.into_iter().map(|r| (r.kind, r.key, r.value)).collect()
}

async fn connect(db: &TestDb) -> StateStore {
    StateStore::connect(&db.url, Duration::from_secs(10))
        .await
        .unwrap()
}

async fn puts_replace_and_deletes_remove(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect(&db).await;
    assert!(store.load_all().await.unwrap().is_empty());
    store
        .apply(vec![
            put("business", "1631", r#"{"v":1}"#),
            put("business", "1631", r#"{"v":2}"#),
            put("consumer", "4477", "{}"),
            put("push", "1631|1", "[]"),
        ])
        .await
        .unwrap();
    store
        .apply(vec![StateChange::Delete {
            kind: "push".into(),
            key: "1631|1".into(),
        }])
        .await
        .unwrap();
    drop(store);
    // A second start finds the table (migrations are not re-run) and the documents.
    let again = connect(&db).await;
    assert_eq!(
        sorted(again.load_all().await.unwrap()),
        vec![
            ("business".into(), "1631".into(), r#"{"v":2}"#.into()),
            ("consumer".into(), "4477".into(), "{}".into()),
        ]
    );
}

async fn large_documents_survive(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect(&db).await;
    let big = "x".repeat(2 * 1024 * 1024);
    store.apply(vec![put("media", "m1", &big)]).await.unwrap();
    let rows = store.load_all().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].value.len(), big.len());
}
