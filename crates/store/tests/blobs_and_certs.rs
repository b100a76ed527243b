//! Binary values (the profile photo) and replaceable certificates, on every backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::connect_to;
use wa_store::{testing::TestDb, Backend, StoredCert, MAX_BLOB_BYTES};

on_every_backend!(blob_put_get_replace_delete, cert_replace_and_delete,);

async fn blob_put_get_replace_delete(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    assert_eq!(store.get_blob("profile_photo").await.unwrap(), None);
    // Every byte value survives, including NUL and high bytes.
    let first: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    store
        .put_blob("profile_photo", first.clone())
        .await
        .unwrap();
    assert_eq!(store.get_blob("profile_photo").await.unwrap(), Some(first));
    store
        .put_blob("profile_photo", vec![1, 2, 3])
        .await
        .unwrap();
    assert_eq!(
        store.get_blob("profile_photo").await.unwrap(),
        Some(vec![1, 2, 3])
    );
    assert!(store
        .put_blob("profile_photo", vec![0; MAX_BLOB_BYTES + 1])
        .await
        .is_err());
    assert!(store.delete_blob("profile_photo").await.unwrap());
    assert!(!store.delete_blob("profile_photo").await.unwrap());
    assert_eq!(store.get_blob("profile_photo").await.unwrap(), None);
}

async fn cert_replace_and_delete(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let cert = |n: &str| StoredCert {
        cert_pem: format!("cert {n}"),
        key_pem: format!("key {n}"),
        ca_pem: format!("ca {n}"),
    };
    store
        .replace_cert("host", "external", cert("1"))
        .await
        .unwrap();
    store
        .replace_cert("host", "external", cert("2"))
        .await
        .unwrap();
    assert_eq!(
        store.find_cert("host", "external").await.unwrap(),
        Some(cert("2"))
    );
    assert!(store.delete_cert("host", "external").await.unwrap());
    assert!(!store.delete_cert("host", "external").await.unwrap());
    assert_eq!(store.find_cert("host", "external").await.unwrap(), None);
}
