//! Schema migrations, embedded per backend from `sql/<backend>` and applied under a cross-process
//! lock: `GET_LOCK` on MySQL, an advisory lock on PostgreSQL, a file lock for SQLite.

use std::{fs::File, path::Path};

use diesel::{
    connection::SimpleConnection,
    dsl::sql,
    sql_types::{Integer, Nullable},
    RunQueryDsl,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::database::with_suffix;
use crate::{backend::DbTarget, db::DbConnection, StoreError};

/// Name of the MySQL `GET_LOCK` lock that serialises migrations between processes.
const MYSQL_MIGRATION_LOCK: &str = "wa_onprem_migrations";
/// Seconds a process waits for another one's migrations before giving up.
const MIGRATION_LOCK_WAIT_SECS: u32 = 120;
/// PostgreSQL advisory lock key for migrations ("waonprem" in ASCII).
const PG_MIGRATION_LOCK_KEY: i64 = 0x7761_6f6e_7072_656d;

const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../sql/mysql");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../sql/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../sql/sqlite");

/// Applies the pending migrations while holding the cross-process migration lock.
/// Returns how many this call applied (0 when another process or an earlier start did it).
pub(crate) fn run_pending(conn: &mut DbConnection, target: &DbTarget) -> Result<usize, StoreError> {
    with_migration_lock(conn, target, apply_pending)
}

fn apply_pending(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let applied = match conn {
        DbConnection::Mysql(conn) => conn
            .run_pending_migrations(MYSQL_MIGRATIONS)
            .map(|done| done.len()),
        DbConnection::Postgresql(conn) => conn
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|done| done.len()),
        DbConnection::Sqlite(conn) => conn
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|done| done.len()),
    };
    applied.map_err(|error| StoreError::Query(format!("migration failed: {error}")))
}

/// Runs `migrate` while holding the cross-process migration lock, so that of several processes
/// starting together exactly one applies each migration and the others wait and then find nothing
/// to do. wanet's state store takes the same lock for its own migrations.
pub(crate) fn with_migration_lock<T>(
    conn: &mut DbConnection,
    target: &DbTarget,
    migrate: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    if let DbTarget::Sqlite { path } = target {
        // The OS releases the lock when the file is closed, even if this process dies.
        let _lock = lock_file(path)?;
        return migrate(conn);
    }
    acquire_server_lock(conn)?;
    let outcome = migrate(conn);
    let released = release_server_lock(conn);
    let value = outcome?;
    released?;
    Ok(value)
}

fn acquire_server_lock(conn: &mut DbConnection) -> Result<(), StoreError> {
    match conn {
        DbConnection::Mysql(conn) => {
            let granted = diesel::select(sql::<Nullable<Integer>>(&format!(
                "GET_LOCK('{MYSQL_MIGRATION_LOCK}', {MIGRATION_LOCK_WAIT_SECS})"
            )))
            .get_result::<Option<i32>>(conn)?;
            if granted != Some(1) {
                return Err(lock_wait_expired());
            }
            Ok(())
        }
        DbConnection::Postgresql(conn) => {
            // Bounds the wait like MySQL's GET_LOCK timeout; this connection is closed after migrating.
            conn.batch_execute(&format!(
                "SET lock_timeout = '{MIGRATION_LOCK_WAIT_SECS}s'; SELECT pg_advisory_lock({PG_MIGRATION_LOCK_KEY})"
            ))
            .map_err(|error| StoreError::Unavailable(format!("migration lock: {error}")))?;
            Ok(())
        }
        DbConnection::Sqlite(_) => Ok(()),
    }
}

fn release_server_lock(conn: &mut DbConnection) -> Result<(), StoreError> {
    match conn {
        DbConnection::Mysql(conn) => {
            conn.batch_execute(&format!("DO RELEASE_LOCK('{MYSQL_MIGRATION_LOCK}')"))?;
        }
        DbConnection::Postgresql(conn) => {
            conn.batch_execute(&format!(
                "SELECT pg_advisory_unlock({PG_MIGRATION_LOCK_KEY})"
            ))?;
        }
        DbConnection::Sqlite(_) => {}
    }
    Ok(())
}

fn lock_wait_expired() -> StoreError {
    StoreError::Unavailable(format!(
        "another process held the migration lock for more than {MIGRATION_LOCK_WAIT_SECS} s"
    ))
}

/// Blocks until this process holds an exclusive OS lock on `<dbfile>.migrate-lock`.
fn lock_file(db_path: &Path) -> Result<File, StoreError> {
    let lock_path = with_suffix(db_path, ".migrate-lock");
    let io_error = |error: std::io::Error| {
        StoreError::Unavailable(format!(
            "migration lock file {}: {error}",
            Path::new(&lock_path).display()
        ))
    };
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_error)?;
    file.lock().map_err(io_error)?;
    Ok(file)
}
