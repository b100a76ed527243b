//! Named configuration values (application settings and the like), on every backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::connect_to;
use wa_store::{testing::TestDb, Backend, StoreError, MAX_CONFIG_VALUE_BYTES};

on_every_backend!(
    config_value_put_get_overwrite_delete,
    config_values_are_shared_between_stores,
    concurrent_first_puts_leave_one_of_the_values,
    config_value_size_limits,
);

async fn config_value_put_get_overwrite_delete(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;

    assert_eq!(store.get_config_value("application").await.unwrap(), None);
    let first = r#"{"webhooks":{"url":"https://h.example.com/wa?auth=é😀"}}"#.to_string();
    store
        .put_config_value("application", first.clone())
        .await
        .unwrap();
    assert_eq!(
        store.get_config_value("application").await.unwrap(),
        Some(first.clone())
    );
    // Writing the same value again is an update that matches one row, not an insert.
    store
        .put_config_value("application", first.clone())
        .await
        .unwrap();
    store
        .put_config_value("application", "{}".to_string())
        .await
        .unwrap();
    assert_eq!(
        store.get_config_value("application").await.unwrap(),
        Some("{}".to_string())
    );
    // Names compare byte for byte.
    assert_eq!(store.get_config_value("Application").await.unwrap(), None);

    store
        .put_config_value("other", String::new())
        .await
        .unwrap();
    assert!(store.delete_config_value("application").await.unwrap());
    assert!(!store.delete_config_value("application").await.unwrap());
    assert_eq!(store.get_config_value("application").await.unwrap(), None);
    assert_eq!(
        store.get_config_value("other").await.unwrap(),
        Some(String::new())
    );
}

async fn config_values_are_shared_between_stores(backend: Backend) {
    let db = TestDb::new(backend);
    let a = connect_to(&db).await;
    let b = connect_to(&db).await;
    a.put_config_value("application", "1".to_string())
        .await
        .unwrap();
    assert_eq!(
        b.get_config_value("application").await.unwrap(),
        Some("1".to_string())
    );
    b.put_config_value("application", "2".to_string())
        .await
        .unwrap();
    assert_eq!(
        a.get_config_value("application").await.unwrap(),
        Some("2".to_string())
    );
}

/// Several writers creating the same name at once: every put succeeds (the losers of the insert
/// race update instead) and exactly one of the written values remains.
async fn concurrent_first_puts_leave_one_of_the_values(backend: Backend) {
    let db = TestDb::new(backend);
    let stores = [connect_to(&db).await, connect_to(&db).await];
    let mut writers = Vec::new();
    for i in 0..8 {
        let store = stores[i % 2].clone();
        writers.push(tokio::spawn(async move {
            store.put_config_value("race", format!("value-{i}")).await
        }));
    }
    for writer in writers {
        writer.await.unwrap().unwrap();
    }
    let stored = stores[0].get_config_value("race").await.unwrap().unwrap();
    assert!(
        (0..8).any(|i| stored == format!("value-{i}")),
        "unexpected value {stored:?}"
    );
}

async fn config_value_size_limits(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let largest = "x".repeat(MAX_CONFIG_VALUE_BYTES);
    store
        .put_config_value("big", largest.clone())
        .await
        .unwrap();
    assert_eq!(
        store
            .get_config_value("big")
            .await
            .unwrap()
            .map(|v| v.len()),
        Some(MAX_CONFIG_VALUE_BYTES)
    );
    let error = store
        .put_config_value("big", format!("{largest}x"))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Query(_)), "{error:?}");
    let long_name = "n".repeat(65);
    assert!(store
        .put_config_value(&long_name, String::new())
        .await
        .is_err());
    assert!(store.put_config_value("", String::new()).await.is_err());
}
