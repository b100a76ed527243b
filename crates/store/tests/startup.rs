//! Connecting: backend selection, database creation, startup retries and migrations.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{net::TcpListener, time::Duration};

use common::{connect_to, migration_names, new_user};
use wa_store::testing::{test_sealer, TestDb};
use wa_store::{admin, Backend, Store, StoreConfig, StoreError};

on_every_backend!(
    first_connect_migrates_and_second_is_a_no_op,
    concurrent_connects_on_a_fresh_database_both_succeed,
    data_survives_reconnecting,
    dropped_database_is_recreated_on_connect,
    unreachable_database_fails_with_unavailable_after_startup_timeout,
    many_concurrent_queries_share_a_small_pool,
    sessions_run_at_read_committed,
);

async fn first_connect_migrates_and_second_is_a_no_op(backend: Backend) {
    let db = TestDb::new(backend);
    let first = connect_to(&db).await;
    assert_eq!(first.backend(), backend);
    assert_eq!(first.migrations_applied(), migration_names(backend).len());
    first.ping().await.unwrap();

    let second = connect_to(&db).await;
    assert_eq!(second.migrations_applied(), 0);
    second.ping().await.unwrap();
}

/// MySQL/MariaDB sessions run at READ COMMITTED like PostgreSQL's (no gap locks: the send and
/// status paths' deadlocks came from them); SQLite has one writer at a time and no level to set.
async fn sessions_run_at_read_committed(backend: Backend) {
    let db = TestDb::new(backend);
    connect_to(&db).await;
    let level = admin::session_isolation(&db.url).unwrap();
    let expected = match backend {
        Backend::Mysql => Some("READ-COMMITTED"),
        Backend::Postgres => Some("read committed"),
        Backend::Sqlite => None,
    };
    assert_eq!(level.as_deref(), expected);
}

async fn concurrent_connects_on_a_fresh_database_both_succeed(backend: Backend) {
    let db = TestDb::new(backend);
    let config = db.config();
    let (a, b) = tokio::join!(Store::connect(&config), Store::connect(&config));
    let (a, b) = (a.unwrap(), b.unwrap());
    // Each migration ran exactly once, in one process or the other.
    assert_eq!(
        a.migrations_applied() + b.migrations_applied(),
        migration_names(backend).len()
    );
    a.create_user(new_user("alice")).await.unwrap();
    assert!(b.find_user("alice").await.unwrap().is_some());
}

async fn data_survives_reconnecting(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    store.create_user(new_user("alice")).await.unwrap();
    let secret = store
        .get_or_insert_secret("jwt_key", "k1".to_string())
        .await
        .unwrap();
    drop(store);

    let store = connect_to(&db).await;
    assert_eq!(store.migrations_applied(), 0);
    assert_eq!(
        store.find_user("alice").await.unwrap().unwrap().username,
        "alice"
    );
    assert_eq!(
        store
            .get_or_insert_secret("jwt_key", "k2".to_string())
            .await
            .unwrap(),
        secret
    );
}

async fn dropped_database_is_recreated_on_connect(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    store.create_user(new_user("alice")).await.unwrap();
    drop(store);

    admin::drop_database(&db.url).unwrap();
    let store = connect_to(&db).await;
    assert_eq!(store.migrations_applied(), migration_names(backend).len());
    assert!(store.find_user("alice").await.unwrap().is_none());
}

async fn unreachable_database_fails_with_unavailable_after_startup_timeout(backend: Backend) {
    let (url, _keep_dir) = unreachable_url(backend);
    let config = StoreConfig {
        startup_timeout: Duration::from_secs(2),
        ..StoreConfig::new(url, test_sealer())
    };
    let error = Store::connect(&config).await.unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
}

async fn many_concurrent_queries_share_a_small_pool(backend: Backend) {
    let db = TestDb::new(backend);
    let store = Store::connect(&StoreConfig {
        pool_size: 2,
        ..db.config()
    })
    .await
    .unwrap();
    store.create_user(new_user("alice")).await.unwrap();
    let lookups = (0..40).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.find_user("alice").await })
    });
    for lookup in lookups.collect::<Vec<_>>() {
        assert!(lookup.await.unwrap().unwrap().is_some());
    }
}

/// A URL whose server refuses connections (a local port nobody listens on), or for SQLite a path
/// below a regular file, which can never become a directory.
fn unreachable_url(backend: Backend) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let closed_port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = match backend {
        Backend::Mysql => {
            format!("mysql://wa_test:wa_test@127.0.0.1:{closed_port}/wa_t_unreachable")
        }
        Backend::Postgres => {
            format!("postgres://wa_test:wa_test@127.0.0.1:{closed_port}/wa_t_unreachable")
        }
        Backend::Sqlite => {
            let file = dir.path().join("not-a-directory");
            std::fs::write(&file, b"").unwrap();
            format!("sqlite://{}/wa.db", file.display())
        }
    };
    (url, dir)
}

#[tokio::test]
async fn unknown_url_schemes_are_rejected_without_creating_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().display();
    for url in [
        format!("{path}/plain.db"),
        format!("sqlite3://{path}/typo.db"),
        format!("file:{path}/uri.db"),
        format!("postgress://wa_test@127.0.0.1/{}", "wa_t_typo"),
        format!("mysqll://wa_test@127.0.0.1/{}", "wa_t_typo"),
    ] {
        let error = Store::connect(&StoreConfig::new(url.clone(), test_sealer()))
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Config(_)), "{url}: {error:?}");
        assert!(
            matches!(admin::backend_of(&url), Err(StoreError::Config(_))),
            "{url}"
        );
    }
    let created: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(created.is_empty(), "files were created: {created:?}");
}

#[tokio::test]
async fn invalid_database_names_are_config_errors() {
    for url in [
        "mysql://wa_test@127.0.0.1/bad-name",
        "postgres://wa_test@127.0.0.1/x%22y",
        "postgres://h",
    ] {
        let error = Store::connect(&StoreConfig::new(url, test_sealer()))
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Config(_)), "{url}: {error:?}");
    }
}

#[test]
fn backend_of_follows_the_scheme() {
    assert_eq!(admin::backend_of("mysql://h/db").unwrap(), Backend::Mysql);
    assert_eq!(admin::backend_of("mariadb://h/db").unwrap(), Backend::Mysql);
    assert_eq!(
        admin::backend_of("postgres://h/db").unwrap(),
        Backend::Postgres
    );
    assert_eq!(
        admin::backend_of("postgresql://h/db").unwrap(),
        Backend::Postgres
    );
    assert_eq!(
        admin::backend_of("sqlite:///tmp/wa.db").unwrap(),
        Backend::Sqlite
    );
    assert_eq!(admin::backend_of("sqlite:wa.db").unwrap(), Backend::Sqlite);
}

#[test]
fn every_backend_ships_the_same_migrations() {
    let mysql = migration_names(Backend::Mysql);
    assert!(!mysql.is_empty());
    assert_eq!(mysql, migration_names(Backend::Postgres));
    assert_eq!(mysql, migration_names(Backend::Sqlite));
}

/// MySQL commits DDL implicitly, so a migration must not be able to stop halfway.
#[test]
fn each_mysql_migration_is_one_statement() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sql/mysql");
    for name in migration_names(Backend::Mysql) {
        for file in ["up.sql", "down.sql"] {
            let sql = std::fs::read_to_string(root.join(&name).join(file)).unwrap();
            let code: String = sql
                .lines()
                .filter(|line| !line.trim_start().starts_with("--"))
                .collect();
            let statements = code
                .split(';')
                .filter(|part| !part.trim().is_empty())
                .count();
            assert_eq!(statements, 1, "{name}/{file} has {statements} statements");
        }
    }
}
