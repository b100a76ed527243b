//! Creating and dropping whole databases, per backend: the only SQL here that names no table.

use std::{ffi::OsString, path::Path};

use diesel::{
    connection::SimpleConnection,
    dsl::sql,
    sql_types::{Bool, Text},
    Connection, MysqlConnection, PgConnection, RunQueryDsl,
};
use url::Url;

use crate::{backend::DbTarget, StoreError};

/// Creates the database the target names unless it exists. Safe to race with other processes.
pub(crate) fn create_database_if_missing(target: &DbTarget) -> Result<(), StoreError> {
    match target {
        DbTarget::Mysql { url, database } => {
            let mut server = MysqlConnection::establish(mysql_server_url(url).as_str())?;
            // Byte-exact collation so text compares as it does on PostgreSQL and SQLite.
            server.batch_execute(&format!(
                "CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            ))?;
            Ok(())
        }
        DbTarget::Postgres { url, database } => {
            let mut server = PgConnection::establish(pg_maintenance_url(url).as_str())?;
            create_pg_database(&mut server, database)
        }
        DbTarget::Sqlite { .. } => Ok(()),
    }
}

/// PostgreSQL has no `CREATE DATABASE IF NOT EXISTS`; when two processes race, the loser's error is
/// fine as long as the database exists afterwards.
fn create_pg_database(server: &mut PgConnection, database: &str) -> Result<(), StoreError> {
    if pg_database_exists(server, database)? {
        return Ok(());
    }
    // template0 so the UTF8 encoding is allowed even when template1 was created with another one.
    let created = server.batch_execute(&format!(
        "CREATE DATABASE \"{database}\" ENCODING 'UTF8' TEMPLATE template0"
    ));
    match created {
        Ok(()) => Ok(()),
        Err(_) if pg_database_exists(server, database)? => Ok(()),
        Err(error) => Err(error.into()),
    }
}

fn pg_database_exists(server: &mut PgConnection, database: &str) -> Result<bool, StoreError> {
    let exists = diesel::select(
        sql::<Bool>("EXISTS (SELECT 1 FROM pg_database WHERE datname = ")
            .bind::<Text, _>(database)
            .sql(")"),
    )
    .get_result::<bool>(server)?;
    Ok(exists)
}

/// Drops the database the target names (SQLite: removes the file and its companions).
pub(crate) fn drop_database(target: &DbTarget) -> Result<(), StoreError> {
    match target {
        DbTarget::Mysql { url, database } => {
            let mut server = MysqlConnection::establish(mysql_server_url(url).as_str())?;
            server.batch_execute(&format!("DROP DATABASE IF EXISTS `{database}`"))?;
            Ok(())
        }
        DbTarget::Postgres { url, database } => {
            let mut server = PgConnection::establish(pg_maintenance_url(url).as_str())?;
            // DROP DATABASE refuses while anyone is connected (e.g. a pool not yet dropped).
            diesel::sql_query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE pid <> pg_backend_pid() AND datname = $1",
            )
            .bind::<Text, _>(database)
            .execute(&mut server)?;
            server.batch_execute(&format!("DROP DATABASE IF EXISTS \"{database}\""))?;
            Ok(())
        }
        DbTarget::Sqlite { path } => remove_sqlite_files(path),
    }
}

fn remove_sqlite_files(path: &Path) -> Result<(), StoreError> {
    for suffix in ["", "-wal", "-shm", ".migrate-lock"] {
        let file = with_suffix(path, suffix);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(StoreError::Query(format!(
                    "cannot remove {}: {error}",
                    Path::new(&file).display()
                )))
            }
        }
    }
    Ok(())
}

pub(super) fn with_suffix(path: &Path, suffix: &str) -> OsString {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name
}

/// The MySQL server without a default database, to create or drop the one we want.
pub(super) fn mysql_server_url(url: &Url) -> Url {
    let mut server = url.clone();
    server.set_path("");
    server
}

/// The `postgres` maintenance database, which exists on every PostgreSQL server.
pub(super) fn pg_maintenance_url(url: &Url) -> Url {
    let mut server = url.clone();
    server.set_path("/postgres");
    server
}
