//! Waiting for the database at startup: containers often start before their database does.

use std::{path::Path, time::Duration};

use tokio::time::{sleep, timeout_at, Instant};
use tracing::warn;

use super::{
    connection::{self, DbConnection},
    database,
};
use crate::{backend::DbTarget, StoreError};

const RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// Opens one connection to the target, creating its database first if needed, retrying every
/// second while the database is unavailable. Fails with `Unavailable` once `startup_timeout` is spent.
pub(crate) async fn open_when_reachable(
    target: &DbTarget,
    startup_timeout: Duration,
) -> Result<DbConnection, StoreError> {
    let deadline = Instant::now() + startup_timeout;
    let mut last_error = None;
    while Instant::now() < deadline {
        // Bounded by the deadline so a server that swallows packets cannot stall startup.
        match timeout_at(deadline, attempt_open(target.clone())).await {
            Ok(Ok(conn)) => return Ok(conn),
            Ok(Err(StoreError::Unavailable(error))) => {
                warn!(database = %target.describe(), %error, "database not reachable yet; retrying");
                last_error = Some(error);
            }
            Ok(Err(fatal)) => return Err(fatal),
            Err(_elapsed) => break,
        }
        sleep(RETRY_INTERVAL.min(deadline.saturating_duration_since(Instant::now()))).await;
    }
    let cause = last_error.unwrap_or_else(|| "connection attempt timed out".to_string());
    Err(StoreError::Unavailable(format!(
        "{} not reachable within {startup_timeout:?}: {cause}",
        target.describe()
    )))
}

async fn attempt_open(target: DbTarget) -> Result<DbConnection, StoreError> {
    tokio::task::spawn_blocking(move || open_creating_database(&target))
        .await
        .unwrap_or_else(|join_error| {
            Err(StoreError::Unavailable(format!(
                "connection attempt failed: {join_error}"
            )))
        })
}

/// Connects first and creates the database only if that fails, so a user without CREATE
/// privilege can use a database an administrator made.
fn open_creating_database(target: &DbTarget) -> Result<DbConnection, StoreError> {
    if let DbTarget::Sqlite { path } = target {
        create_parent_dir(path)?;
        return connection::open(target);
    }
    match connection::open(target) {
        Ok(conn) => Ok(conn),
        Err(StoreError::Unavailable(_)) => {
            database::create_database_if_missing(target)?;
            connection::open(target)
        }
        Err(other) => Err(other),
    }
}

/// A missing directory is created; a failure counts as "unavailable" because the volume may
/// simply not be mounted yet.
fn create_parent_dir(db_file: &Path) -> Result<(), StoreError> {
    match db_file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir).map_err(|error| {
            StoreError::Unavailable(format!(
                "cannot create directory {}: {error}",
                dir.display()
            ))
        }),
        _ => Ok(()),
    }
}
