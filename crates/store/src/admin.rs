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

/// Every value stored in every table of the database the URL names, as text (binary columns in
/// hex): what a dump of the database reveals.
pub fn dump(url: &str) -> Result<Vec<db::DumpedValue>, StoreError> {
    db::dump(&DbTarget::parse(url)?)
}

/// How many deadlocks the database server has counted so far (see `db::deadlocks`): the whole
/// MySQL/MariaDB server's, the PostgreSQL database's own; `None` on SQLite. Compare two readings
/// to see whether a workload deadlocked.
pub fn deadlocks(url: &str) -> Result<Option<i64>, StoreError> {
    db::deadlocks(&DbTarget::parse(url)?)
}

/// MySQL/MariaDB: the server's description of its latest deadlock (`SHOW ENGINE INNODB STATUS`,
/// which names the databases, so a test can tell its own from another's); `None` when there was
/// none or on the other backends.
pub fn latest_deadlock(url: &str) -> Result<Option<String>, StoreError> {
    db::latest_deadlock(&DbTarget::parse(url)?)
}

/// The transaction isolation level the store's connections to the database the URL names run at,
/// as the server spells it (`READ-COMMITTED`, `read committed`); `None` on SQLite.
pub fn session_isolation(url: &str) -> Result<Option<String>, StoreError> {
    db::session_isolation(&DbTarget::parse(url)?)
}
