//! Secret values sealed at rest, on every backend: what a dump of the database shows, rows of a
//! version before sealing sealed on start, key rotation, and a wrong key refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::connect;
use wa_api::keys::{JWT_SIGNING_KEY, MEDIA_PROVIDERS, TWO_STEP_PIN};
use wa_store::testing::{execute_sql, TestDb};
use wa_store::{
    admin, Backend, Registration, Sealer, SecretsKey, Store, StoreConfig, StoreError, StoredCert,
    SEALED_PREFIX,
};

on_every_backend!(
    secrets_are_sealed_and_read_back_plain,
    plain_rows_of_an_older_version_are_sealed_on_start,
    rotation_reseals_with_the_new_key,
    a_wrong_key_is_refused_at_start,
);

const PIN: &str = "384756";
const PROVIDERS: &str =
    r#"[{"name":"p","config":{"basic":{"user":"u","password":"provider-pw-9917"}}}]"#;
const JWT: &str = "jwt-signing-key-0123456789abcdef0123456789";
const TLS_KEY: &str = "-----BEGIN PRIVATE KEY-----\nTLSKEYMATERIAL42\n-----END PRIVATE KEY-----";
const NETWORK_SECRET: &str = "network-secret-5a5a5a5a";
const ABOUT: &str = "plain about text";

fn config(db: &TestDb, current: &SecretsKey, previous: Option<&SecretsKey>) -> StoreConfig {
    StoreConfig {
        sealer: Sealer::new(current.clone(), previous.cloned()),
        ..db.config()
    }
}

fn cert() -> StoredCert {
    StoredCert {
        cert_pem: "public cert".into(),
        key_pem: TLS_KEY.into(),
        ca_pem: "public ca".into(),
    }
}

fn registration() -> Registration {
    Registration {
        phone: "16315550000".into(),
        vname: "Acme".into(),
        secret: NETWORK_SECRET.into(),
        registered_at: 1,
        deregistered_at: None,
    }
}

/// Every kind of secret the store keeps, and one plain value.
async fn store_every_secret(store: &Store) {
    assert_eq!(
        store
            .get_or_insert_secret(JWT_SIGNING_KEY, JWT.into())
            .await
            .unwrap(),
        JWT
    );
    store
        .replace_cert("host", "external", cert())
        .await
        .unwrap();
    store
        .insert_cert_if_absent("host", "self_signed", cert())
        .await
        .unwrap();
    store.save_registration(registration()).await.unwrap();
    store
        .put_config_value(TWO_STEP_PIN, PIN.into())
        .await
        .unwrap();
    store
        .put_config_value(MEDIA_PROVIDERS, PROVIDERS.into())
        .await
        .unwrap();
    store
        .put_config_value("profile.about", ABOUT.into())
        .await
        .unwrap();
}

async fn assert_every_secret_reads_back(store: &Store) {
    let jwt = store
        .get_or_insert_secret(JWT_SIGNING_KEY, "another".into())
        .await
        .unwrap();
    assert_eq!(jwt, JWT);
    for kind in ["external", "self_signed"] {
        assert_eq!(store.find_cert("host", kind).await.unwrap(), Some(cert()));
    }
    assert_eq!(store.registration().await.unwrap(), Some(registration()));
    let pin = store.get_config_value(TWO_STEP_PIN).await.unwrap();
    assert_eq!(pin.as_deref(), Some(PIN));
    let providers = store.get_config_value(MEDIA_PROVIDERS).await.unwrap();
    assert_eq!(providers.as_deref(), Some(PROVIDERS));
}

/// No secret appears anywhere in the dump (not even part of one), and the sealed columns hold
/// sealed values.
fn assert_dump_reveals_nothing(db: &TestDb) {
    let dump = admin::dump(&db.url).unwrap();
    for secret in [
        PIN,
        "provider-pw-9917",
        JWT,
        "TLSKEYMATERIAL42",
        NETWORK_SECRET,
    ] {
        let found: Vec<_> = dump.iter().filter(|v| v.text.contains(secret)).collect();
        assert!(found.is_empty(), "{secret} in {found:?}");
    }
    let sealed = |table: &str, column: &str| {
        dump.iter()
            .filter(|v| v.table == table && v.column == column)
            .all(|v| v.text.starts_with(SEALED_PREFIX))
    };
    assert!(sealed("secrets", "value"));
    assert!(sealed("certs", "key_pem"));
    assert!(sealed("registration", "secret"));
    // A value that is no secret stays readable.
    assert!(dump.iter().any(|v| v.text == ABOUT), "{dump:?}");
}

async fn secrets_are_sealed_and_read_back_plain(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect(&db.config()).await;
    store_every_secret(&store).await;
    assert_every_secret_reads_back(&store).await;
    assert_dump_reveals_nothing(&db);
    // A restart finds nothing to reseal.
    drop(store);
    let store = connect(&db.config()).await;
    assert_eq!(store.reseal_secrets().await.unwrap(), 0);
    assert_every_secret_reads_back(&store).await;
}

async fn plain_rows_of_an_older_version_are_sealed_on_start(backend: Backend) {
    let db = TestDb::new(backend);
    // The schema first, then the rows as a version without sealing wrote them.
    drop(connect(&db.config()).await);
    let providers = PROVIDERS.replace('\'', "''");
    let legacy = format!(
        "INSERT INTO secrets (name, value, created_at) VALUES ('{JWT_SIGNING_KEY}', '{JWT}', 0);
         INSERT INTO certs (hostname, cert_type, cert_pem, key_pem, ca_pem, created_at)
             VALUES ('host', 'external', 'public cert', '{TLS_KEY}', 'public ca', 0);
         INSERT INTO certs (hostname, cert_type, cert_pem, key_pem, ca_pem, created_at)
             VALUES ('host', 'self_signed', 'public cert', '{TLS_KEY}', 'public ca', 0);
         INSERT INTO registration (id, phone, vname, secret, registered_at)
             VALUES ('current', '16315550000', 'Acme', '{NETWORK_SECRET}', 1);
         INSERT INTO config_values (name, value, updated_at) VALUES ('{TWO_STEP_PIN}', '{PIN}', 0);
         INSERT INTO config_values (name, value, updated_at)
             VALUES ('{MEDIA_PROVIDERS}', '{providers}', 0);
         INSERT INTO config_values (name, value, updated_at) VALUES ('profile.about', '{ABOUT}', 0);"
    );
    execute_sql(&db.url, &legacy).unwrap();
    let store = connect(&db.config()).await;
    assert_dump_reveals_nothing(&db);
    assert_every_secret_reads_back(&store).await;
    assert_eq!(store.reseal_secrets().await.unwrap(), 0);
}

async fn rotation_reseals_with_the_new_key(backend: Backend) {
    let db = TestDb::new(backend);
    let (old, new) = (SecretsKey::generate(), SecretsKey::generate());
    let store = connect(&config(&db, &old, None)).await;
    store_every_secret(&store).await;
    drop(store);
    // The new key with the old one as previous: everything opens, and is sealed again.
    let store = connect(&config(&db, &new, Some(&old))).await;
    assert_every_secret_reads_back(&store).await;
    assert_eq!(store.reseal_secrets().await.unwrap(), 0);
    drop(store);
    assert_dump_reveals_nothing(&db);
    // The new key alone now suffices, and the old one no longer opens anything.
    let store = connect(&config(&db, &new, None)).await;
    assert_every_secret_reads_back(&store).await;
    drop(store);
    let refused = Store::connect(&config(&db, &old, None)).await.unwrap_err();
    assert!(matches!(refused, StoreError::Sealed(_)), "{refused:?}");
}

async fn a_wrong_key_is_refused_at_start(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect(&db.config()).await;
    store_every_secret(&store).await;
    drop(store);
    let (other, another) = (SecretsKey::generate(), SecretsKey::generate());
    let error = Store::connect(&config(&db, &other, Some(&another)))
        .await
        .unwrap_err();
    let StoreError::Sealed(message) = &error else {
        panic!("{error:?}");
    };
    assert!(message.contains("WA_SECRETS_KEY"), "{message}");
    assert!(message.contains("WA_SECRETS_PREVIOUS_KEY"), "{message}");
    // Nothing was rewritten: the right key still opens everything.
    let store = connect(&db.config()).await;
    assert_every_secret_reads_back(&store).await;
}
