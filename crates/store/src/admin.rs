//! Blocking helpers for tools and tests that manage whole databases.

use crate::{backend::DbTarget, db, Backend, StoreError};

/// The backend a URL selects, or `Config` for an unsupported or malformed URL.
pub fn backend_of(url: &str) -> Result<Backend, StoreError> {
    DbTarget::parse(url).map(|target| target.backend())
}

/// Drops the database the URL names (MySQL/PostgreSQL), or removes the SQLite file with its
/// `-wal`, `-shm` and migration-lock companions. Missing databases are not an error.
pub fn drop_database(url: &str) -> Result<(), StoreError> {
    db::drop_database(&DbTarget::parse(url)?)
}
