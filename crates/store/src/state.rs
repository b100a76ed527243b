//! A generic key-value store for the simulated network (wanet): one table of JSON documents
//! keyed by (kind, key), with its own migrations (`sql/wanet/<backend>`), never mixed with the
//! product's schema. wanet keeps its state in memory and writes every change through here in
//! batches; at start it reads everything back.
//!
//! One connection is enough: a single writer (wanet's flusher) uses it, and reads happen only
//! at start.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::db::{open_when_reachable, with_migration_lock, write_transaction, DbConnection};
use crate::{backend::DbTarget, Backend, StoreError};

const MYSQL: EmbeddedMigrations = embed_migrations!("../../sql/wanet/mysql");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../sql/wanet/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../sql/wanet/sqlite");

diesel::table! {
    wanet_state (kind, skey) {
        kind -> Text,
        skey -> Text,
        value -> Text,
    }
}

/// One stored document.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct StateRow {
    pub kind: String,
    pub key: String,
    pub value: String,
}

/// A change to apply: a document written (created or replaced) or removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateChange {
    Put {
        kind: String,
        key: String,
        value: String,
    },
    Delete {
        kind: String,
        key: String,
    },
}

/// wanet's state on SQLite, MySQL/MariaDB or PostgreSQL. Cheap to clone.
#[derive(Clone)]
pub struct StateStore {
    conn: Arc<Mutex<DbConnection>>,
    backend: Backend,
}

impl StateStore {
    /// Opens the database the URL names (created when missing, waited for up to
    /// `startup_timeout`) and applies wanet's migrations.
    pub async fn connect(url: &str, startup_timeout: Duration) -> Result<StateStore, StoreError> {
        let target = DbTarget::parse(url)?;
        let conn = open_when_reachable(&target, startup_timeout).await?;
        let backend = target.backend();
        let conn = blocking(move || {
            let mut conn = conn;
            with_migration_lock(&mut conn, &target, migrate)?;
            Ok(conn)
        })
        .await?;
        tracing::info!(backend = backend.name(), "wanet state store ready");
        Ok(StateStore {
            conn: Arc::new(Mutex::new(conn)),
            backend,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Every stored document.
    pub async fn load_all(&self) -> Result<Vec<StateRow>, StoreError> {
        self.run(|conn| {
            Ok(wanet_state::table
                .select((wanet_state::kind, wanet_state::skey, wanet_state::value))
                .load::<StateRow>(conn)?)
        })
        .await
    }

    /// Applies `changes` in order, all in one transaction. A put replaces the document (delete
    /// then insert: the one upsert every backend runs the same way).
    pub async fn apply(&self, changes: Vec<StateChange>) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                for change in &changes {
                    apply_one(conn, change)?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut conn)
        })
        .await
    }
}

fn apply_one(conn: &mut DbConnection, change: &StateChange) -> Result<(), StoreError> {
    let (kind, key) = match change {
        StateChange::Put { kind, key, .. } | StateChange::Delete { kind, key } => (kind, key),
    };
    diesel::delete(
        wanet_state::table.filter(wanet_state::kind.eq(kind).and(wanet_state::skey.eq(key))),
    )
    .execute(conn)?;
    if let StateChange::Put { value, .. } = change {
        diesel::insert_into(wanet_state::table)
            .values((
                wanet_state::kind.eq(kind),
                wanet_state::skey.eq(key),
                wanet_state::value.eq(value),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn migrate(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let applied = match conn {
        DbConnection::Mysql(conn) => conn.run_pending_migrations(MYSQL).map(|done| done.len()),
        DbConnection::Postgresql(conn) => {
            conn.run_pending_migrations(POSTGRES).map(|done| done.len())
        }
        DbConnection::Sqlite(conn) => conn.run_pending_migrations(SQLITE).map(|done| done.len()),
    };
    applied.map_err(|error| StoreError::Query(format!("wanet migration failed: {error}")))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|join_error| {
            Err(StoreError::Unavailable(format!(
                "state store task failed: {join_error}"
            )))
        })
}
