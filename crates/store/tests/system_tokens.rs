//! Long-lived bearer tokens on every backend: stored by hash, found by hash, listed oldest first,
//! unique by hash, kept across reconnects (a restart), and gone once revoked.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::connect_to;
use wa_api::users::Role;
use wa_store::{testing::TestDb, Backend, StoreError, SystemToken};

on_every_backend!(system_tokens_are_found_by_hash_listed_and_revoked);

fn token(id: &str, name: &str, role: Role, hash_byte: char, created_at: i64) -> SystemToken {
    SystemToken {
        id: id.to_string(),
        name: name.to_string(),
        role,
        token_hash: hash_byte.to_string().repeat(64),
        created_at,
    }
}

async fn system_tokens_are_found_by_hash_listed_and_revoked(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let crm = token("t2", "CRM integration ✓", Role::User, 'b', 200);
    let ops = token("t1", "ops", Role::Admin, 'a', 100);
    store.insert_system_token(crm.clone()).await.unwrap();
    store.insert_system_token(ops.clone()).await.unwrap();

    // The same hash twice is refused, whatever the id.
    let twin = token("t3", "twin", Role::User, 'a', 300);
    assert!(matches!(
        store.insert_system_token(twin).await,
        Err(StoreError::Conflict)
    ));

    assert_eq!(
        store.find_system_token(&"b".repeat(64)).await.unwrap(),
        Some(crm.clone())
    );
    assert_eq!(
        store.find_system_token(&"c".repeat(64)).await.unwrap(),
        None
    );
    assert_eq!(
        store.system_tokens().await.unwrap(),
        vec![ops.clone(), crm.clone()]
    );

    // A restart: a new store on the same database still honours them.
    drop(store);
    let store = connect_to(&db).await;
    assert_eq!(
        store.find_system_token(&"a".repeat(64)).await.unwrap(),
        Some(ops.clone())
    );

    assert_eq!(store.delete_system_token("t1").await.unwrap(), Some(ops));
    assert_eq!(store.delete_system_token("t1").await.unwrap(), None);
    assert_eq!(
        store.find_system_token(&"a".repeat(64)).await.unwrap(),
        None
    );
    assert_eq!(store.system_tokens().await.unwrap(), vec![crm]);
}
