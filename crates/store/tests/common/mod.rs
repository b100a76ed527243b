//! Helpers shared by the integration tests.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::PathBuf;

use wa_store::{testing::TestDb, Backend, NewUser, Store, StoreConfig};

/// Instantiates each listed `async fn name(backend: Backend)` once per backend, as tests named
/// `name::mysql`, `name::postgres` and `name::sqlite`. An unreachable server fails its tests.
#[macro_export]
macro_rules! on_every_backend {
    ($($test:ident),+ $(,)?) => {
        $(
            mod $test {
                use wa_store::Backend;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn mysql() {
                    super::$test(Backend::Mysql).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$test(Backend::Postgres).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$test(Backend::Sqlite).await
                }
            }
        )+
    };
}

pub async fn connect(config: &StoreConfig) -> Store {
    Store::connect(config)
        .await
        .unwrap_or_else(|error| panic!("connect to {:?}: {error}", config))
}

pub async fn connect_to(db: &TestDb) -> Store {
    connect(&db.config()).await
}

pub fn new_user(username: &str) -> NewUser {
    NewUser {
        username: username.to_string(),
        password_hash: format!("$2b$12$hash-of-{username}"),
        role: "ROLE_USER".to_string(),
        must_change_password: false,
    }
}

/// The migrations shipped for `backend`, as `sql/<backend>/` directory names, sorted.
pub fn migration_names(backend: Backend) -> Vec<String> {
    let tree = match backend {
        Backend::Mysql => "mysql",
        Backend::Postgres => "postgres",
        Backend::Sqlite => "sqlite",
    };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../sql")
        .join(tree);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_dir())
        .map(|entry| entry.file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}
