//! Schema migrations, embedded per backend from `sql/<backend>` and applied under a lock.

use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::{backend::DbTarget, connection::DbConnection, dialect, StoreError};

const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../sql/mysql");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../sql/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../sql/sqlite");

/// Applies the pending migrations while holding the cross-process migration lock.
/// Returns how many this call applied (0 when another process or an earlier start did it).
pub(crate) fn run_pending(conn: &mut DbConnection, target: &DbTarget) -> Result<usize, StoreError> {
    dialect::with_migration_lock(conn, target, apply_pending)
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
