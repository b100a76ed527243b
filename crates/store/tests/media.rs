//! Media metadata and contact identities, on every backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::connect_to;
use wa_store::{testing::TestDb, Backend, ContactIdentity, MediaRecord, StoreError};

on_every_backend!(
    media_is_recorded_found_touched_and_deleted,
    identities_need_the_latest_hash_to_be_acknowledged,
);

fn record(id: &str, at: i64) -> MediaRecord {
    MediaRecord {
        id: id.to_string(),
        mime_type: "audio/ogg; codecs=opus".to_string(),
        sha256: "ab".repeat(32),
        size_bytes: 104_857_600,
        created_at: at,
        last_used_at: at,
    }
}

async fn media_is_recorded_found_touched_and_deleted(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    store.insert_media(record("m-old", 100)).await.unwrap();
    store.insert_media(record("m-new", 200)).await.unwrap();
    assert!(matches!(
        store.insert_media(record("m-old", 300)).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store.find_media("m-old").await.unwrap(),
        Some(record("m-old", 100))
    );
    assert_eq!(store.find_media("nope").await.unwrap(), None);
    assert_eq!(store.unused_media(150, 10).await.unwrap(), vec!["m-old"]);
    store.touch_media("m-old", 250).await.unwrap();
    assert_eq!(
        store.unused_media(150, 10).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        store.unused_media(300, 10).await.unwrap(),
        vec!["m-new", "m-old"]
    );
    assert!(store.delete_media("m-old").await.unwrap());
    assert!(!store.delete_media("m-old").await.unwrap());
    assert_eq!(store.find_media("m-old").await.unwrap(), None);
}

async fn identities_need_the_latest_hash_to_be_acknowledged(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let identity = |hash: &str, at: i64| ContactIdentity {
        wa_id: "16315551234".to_string(),
        hash: hash.to_string(),
        created_ms: at,
        acknowledged: false,
    };
    assert_eq!(store.find_identity("16315551234").await.unwrap(), None);
    store
        .save_identity(identity("UKD6Y/5SqDU=", 1))
        .await
        .unwrap();
    store
        .save_identity(identity("Rc/eg9RQ0JA=", 2))
        .await
        .unwrap();
    assert!(!store
        .acknowledge_identity("16315551234", "UKD6Y/5SqDU=")
        .await
        .unwrap());
    assert!(
        !store
            .find_identity("16315551234")
            .await
            .unwrap()
            .unwrap()
            .acknowledged
    );
    assert!(store
        .acknowledge_identity("16315551234", "Rc/eg9RQ0JA=")
        .await
        .unwrap());
    let stored = store.find_identity("16315551234").await.unwrap().unwrap();
    assert_eq!(
        (stored.hash.as_str(), stored.created_ms, stored.acknowledged),
        ("Rc/eg9RQ0JA=", 2, true)
    );
}
