//! One connection type over all three backends, opened for exactly the backend the URL names.

use std::path::Path;

use diesel::{Connection, MysqlConnection, PgConnection, SqliteConnection};

use crate::{backend::DbTarget, dialect, StoreError};

/// Queries are written once against this type; `dialect` matches on the variant for the rest.
#[derive(diesel::MultiConnection)]
pub(crate) enum DbConnection {
    Mysql(MysqlConnection),
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Opens a connection to `target` and applies the per-connection session settings.
///
/// Deliberately not the derived `DbConnection::establish`, which tries each backend in turn.
pub(crate) fn open(target: &DbTarget) -> Result<DbConnection, StoreError> {
    let mut conn = match target {
        DbTarget::Mysql { url, .. } => {
            DbConnection::Mysql(MysqlConnection::establish(url.as_str())?)
        }
        DbTarget::Postgres { url, .. } => {
            DbConnection::Postgresql(PgConnection::establish(url.as_str())?)
        }
        DbTarget::Sqlite { path } => DbConnection::Sqlite(open_sqlite_file(path)?),
    };
    dialect::configure_session(&mut conn)?;
    Ok(conn)
}

fn open_sqlite_file(path: &Path) -> Result<SqliteConnection, StoreError> {
    let path = path.to_str().ok_or_else(|| {
        StoreError::Config(format!("SQLite path {} is not UTF-8", path.display()))
    })?;
    Ok(SqliteConnection::establish(path)?)
}
