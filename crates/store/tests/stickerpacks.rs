//! Third-party sticker packs and stickers, on every backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::connect_to;
use wa_store::{testing::TestDb, Backend, StickerChanges, StickerPack, StickerPackChanges};

on_every_backend!(stickerpack_lifecycle);

fn pack(id: &str) -> StickerPack {
    StickerPack {
        id: id.into(),
        publisher: "Acme".into(),
        name: "Cats 😺".into(),
        ios_app_store_link: None,
        android_app_store_link: Some(
            "https://play.google.com/store/apps/details?id=com.acme".into(),
        ),
    }
}

async fn stickerpack_lifecycle(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    assert!(store.stickerpack_ids().await.unwrap().is_empty());
    store.create_stickerpack(pack("p1")).await.unwrap();
    store.create_stickerpack(pack("p2")).await.unwrap();
    assert_eq!(store.stickerpack_ids().await.unwrap().len(), 2);
    assert_eq!(store.stickerpack("p1").await.unwrap(), Some(pack("p1")));
    assert_eq!(store.stickerpack("nope").await.unwrap(), None);

    let changes = StickerPackChanges {
        name: Some("Dogs".into()),
        ..Default::default()
    };
    assert!(store
        .update_stickerpack("p1", changes.clone())
        .await
        .unwrap());
    assert!(!store.update_stickerpack("nope", changes).await.unwrap());
    let updated = store.stickerpack("p1").await.unwrap().unwrap();
    assert_eq!(
        (updated.name.as_str(), updated.publisher.as_str()),
        ("Dogs", "Acme")
    );

    let emojis = vec!["🐥".to_string(), "😃".to_string()];
    assert_eq!(
        store.add_sticker("p1", "s0", "m0", &emojis).await.unwrap(),
        Some(0)
    );
    assert_eq!(
        store.add_sticker("p1", "s1", "m1", &[]).await.unwrap(),
        Some(1)
    );
    assert_eq!(
        store.add_sticker("nope", "s9", "m9", &[]).await.unwrap(),
        None
    );
    let first = store.sticker("p1", 0).await.unwrap().unwrap();
    assert_eq!((first.id.as_str(), first.emojis.clone()), ("s0", emojis));
    assert_eq!(
        store.sticker_image("s1").await.unwrap().as_deref(),
        Some("m1")
    );

    // A deleted index is never reused.
    assert!(store.delete_sticker("p1", 1).await.unwrap());
    assert!(!store.delete_sticker("p1", 1).await.unwrap());
    assert_eq!(
        store.add_sticker("p1", "s2", "m2", &[]).await.unwrap(),
        Some(2)
    );
    assert_eq!(store.sticker_indexes("p1").await.unwrap(), Some(vec![0, 2]));
    assert_eq!(store.sticker_indexes("nope").await.unwrap(), None);

    let new_image = StickerChanges {
        image: Some(("s0b".into(), "m0b".into())),
        emojis: Some(vec!["🐱".into()]),
    };
    assert!(store.update_sticker("p1", 0, new_image).await.unwrap());
    let changed = store.sticker("p1", 0).await.unwrap().unwrap();
    assert_eq!(
        (changed.id.as_str(), changed.image_data_id.as_str()),
        ("s0b", "m0b")
    );
    assert_eq!(changed.emojis, vec!["🐱".to_string()]);
    assert!(!store
        .update_sticker("p1", 7, StickerChanges::default())
        .await
        .unwrap());

    assert!(store.delete_stickerpack("p1").await.unwrap());
    assert!(!store.delete_stickerpack("p1").await.unwrap());
    assert_eq!(store.sticker("p1", 0).await.unwrap(), None);
    assert_eq!(store.sticker_image("s2").await.unwrap(), None);
}
