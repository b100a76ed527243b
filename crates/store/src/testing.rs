//! Throwaway databases on real servers, for this crate's tests and the e2e tests.
//!
//! Server URLs come from `WA_TEST_MYSQL_URL` and `WA_TEST_POSTGRES_URL`; an unreachable server makes
//! the tests using it fail (no silent skipping).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{env, time::Duration};

use tempfile::TempDir;
use url::Url;

use crate::{admin, backend::DbTarget, db, Backend, Sealer, SecretsKey, StoreConfig, StoreError};

pub const MYSQL_URL_VAR: &str = "WA_TEST_MYSQL_URL";
pub const POSTGRES_URL_VAR: &str = "WA_TEST_POSTGRES_URL";
const DEFAULT_MYSQL_URL: &str = "mysql://wa_test:wa_test@127.0.0.1:3306";
const DEFAULT_POSTGRES_URL: &str = "postgres://wa_test:wa_test@127.0.0.1:5432";
/// The secrets key (`WA_SECRETS_KEY`) of every test installation: base64 of 32 bytes that say
/// what they are, so that a test and the processes it starts open each other's secrets.
pub const TEST_SECRETS_KEY: &str = "d2Etb25wcmVtIHRlc3RzOiBub3QgYSByZWFsIGtleSE=";

/// A sealer with [`TEST_SECRETS_KEY`] and no previous key.
pub fn test_sealer() -> Sealer {
    Sealer::new(SecretsKey::parse(TEST_SECRETS_KEY).unwrap(), None)
}

/// A uniquely named database (`wa_t_<8 hex>`) that does not exist yet; `Store::connect` creates it
/// and dropping the `TestDb` drops it again.
pub struct TestDb {
    pub url: String,
    backend: Backend,
    /// Keeps the SQLite directory alive as long as the database is in use.
    _sqlite_dir: Option<TempDir>,
}

impl TestDb {
    pub fn new(backend: Backend) -> TestDb {
        let name = format!("wa_t_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        match backend {
            Backend::Mysql => Self::on_server(
                backend,
                &server_url(MYSQL_URL_VAR, DEFAULT_MYSQL_URL),
                &name,
            ),
            Backend::Postgres => Self::on_server(
                backend,
                &server_url(POSTGRES_URL_VAR, DEFAULT_POSTGRES_URL),
                &name,
            ),
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("create a temporary directory for SQLite");
                let url = format!(
                    "sqlite://{}",
                    dir.path().join(format!("{name}.db")).display()
                );
                TestDb {
                    url,
                    backend,
                    _sqlite_dir: Some(dir),
                }
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A config for this database: a small pool, a startup timeout short enough that an
    /// unreachable test server fails the test quickly, and [`TEST_SECRETS_KEY`].
    pub fn config(&self) -> StoreConfig {
        StoreConfig {
            pool_size: 4,
            startup_timeout: Duration::from_secs(10),
            ..StoreConfig::new(self.url.clone(), test_sealer())
        }
    }

    fn on_server(backend: Backend, server: &str, name: &str) -> TestDb {
        let mut url = Url::parse(server)
            .unwrap_or_else(|error| panic!("test server URL {server:?}: {error}"));
        url.set_path(&format!("/{name}"));
        TestDb {
            url: url.to_string(),
            backend,
            _sqlite_dir: None,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Best effort: a leftover test database is harmless and must not turn a pass into a panic.
        if let Err(error) = admin::drop_database(&self.url) {
            eprintln!("could not drop test database: {error}");
        }
    }
}

/// Runs `sql` as it is on the database `url` names, bypassing the store: rows as an older version
/// wrote them, or damaged on purpose.
pub fn execute_sql(url: &str, sql: &str) -> Result<(), StoreError> {
    db::execute_batch(&DbTarget::parse(url)?, sql)
}

/// The plan the database `url` names would choose for `sql`, in its own words (PostgreSQL's
/// `EXPLAIN` text, MySQL's `EXPLAIN FORMAT=JSON`, SQLite's `EXPLAIN QUERY PLAN` steps), for
/// tests of which index a statement uses. The statement is planned, not run.
pub fn explain(url: &str, sql: &str) -> Result<String, StoreError> {
    db::explain(&DbTarget::parse(url)?, sql)
}

fn server_url(var: &str, default: &str) -> String {
    env::var(var)
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| default.to_string())
}
