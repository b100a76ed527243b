//! What the database server says about its own locking, for tests and investigations: how many
//! deadlocks it broke, (MySQL/MariaDB) its description of the latest one, and the isolation
//! level the store's sessions run at.

use diesel::{
    dsl::sql,
    sql_types::{BigInt, Text},
    Connection, MysqlConnection, PgConnection, RunQueryDsl,
};

use super::database::{mysql_server_url, pg_maintenance_url};
use super::DbConnection;
use crate::{backend::DbTarget, StoreError};

/// How many deadlocks the server has counted: MySQL/MariaDB's `Innodb_deadlocks` (the whole
/// server's, since it started), PostgreSQL's `pg_stat_database.deadlocks` of the target's
/// database; `None` on SQLite, which has no deadlocks to count (one writer at a time).
pub(crate) fn deadlocks(target: &DbTarget) -> Result<Option<i64>, StoreError> {
    match target {
        DbTarget::Mysql { url, .. } => {
            let mut server = MysqlConnection::establish(mysql_server_url(url).as_str())?;
            let rows: Vec<StatusValue> =
                diesel::sql_query("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'")
                    .load(&mut server)?;
            let value = rows.first().map(|row| row.value.trim().parse::<i64>());
            match value {
                Some(Ok(count)) => Ok(Some(count)),
                other => Err(StoreError::Query(format!(
                    "Innodb_deadlocks unreadable: {other:?}"
                ))),
            }
        }
        DbTarget::Postgres { url, database } => {
            let mut server = PgConnection::establish(pg_maintenance_url(url).as_str())?;
            let count = diesel::select(
                sql::<BigInt>("COALESCE((SELECT deadlocks FROM pg_stat_database WHERE datname = ")
                    .bind::<Text, _>(database)
                    .sql("), 0)"),
            )
            .get_result::<i64>(&mut server)?;
            Ok(Some(count))
        }
        DbTarget::Sqlite { .. } => Ok(None),
    }
}

/// MySQL/MariaDB: the `LATEST DETECTED DEADLOCK` section of `SHOW ENGINE INNODB STATUS` (the
/// statements and locks of the last deadlock anywhere on the server, with the database names),
/// if the server has seen one. `None` on the other backends.
pub(crate) fn latest_deadlock(target: &DbTarget) -> Result<Option<String>, StoreError> {
    let DbTarget::Mysql { url, .. } = target else {
        return Ok(None);
    };
    let mut server = MysqlConnection::establish(mysql_server_url(url).as_str())?;
    let rows: Vec<EngineStatus> =
        diesel::sql_query("SHOW ENGINE INNODB STATUS").load(&mut server)?;
    Ok(rows.first().and_then(|row| deadlock_section(&row.status)))
}

/// The isolation level of a connection opened as the store opens its own (`connection::open`,
/// session settings included), as the server spells it; `None` on SQLite.
pub(crate) fn session_isolation(target: &DbTarget) -> Result<Option<String>, StoreError> {
    let mut conn = super::connection::open(target)?;
    let level = match &mut conn {
        DbConnection::Mysql(conn) => {
            // MySQL 8 and MariaDB 11.1+ name the variable `transaction_isolation`; older MariaDB
            // only `tx_isolation`.
            let mut query = |name: &str| {
                diesel::select(sql::<Text>(&format!("CAST(@@SESSION.{name} AS CHAR)")))
                    .get_result::<String>(conn)
            };
            match query("transaction_isolation") {
                Ok(level) => level,
                Err(_) => query("tx_isolation")?,
            }
        }
        DbConnection::Postgresql(conn) => {
            diesel::select(sql::<Text>("current_setting('transaction_isolation')"))
                .get_result::<String>(conn)?
        }
        DbConnection::Sqlite(_) => return Ok(None),
    };
    Ok(Some(level))
}

/// The text between the deadlock section's heading and the next section's.
fn deadlock_section(status: &str) -> Option<String> {
    let heading = "LATEST DETECTED DEADLOCK";
    let start = status.find(heading)? + heading.len();
    let rest = &status[start..];
    let end = rest.find("\nTRANSACTIONS\n").unwrap_or(rest.len());
    Some(
        rest[..end]
            .trim_matches(|c| c == '-' || c == '\n')
            .to_string(),
    )
}

/// One row of `SHOW STATUS`.
#[derive(diesel::QueryableByName)]
struct StatusValue {
    #[diesel(sql_type = Text, column_name = Value)]
    value: String,
}

/// The one row of `SHOW ENGINE INNODB STATUS`.
#[derive(diesel::QueryableByName)]
struct EngineStatus {
    #[diesel(sql_type = Text, column_name = Status)]
    status: String,
}

#[cfg(test)]
mod tests {
    use super::deadlock_section;

    #[test]
    fn the_deadlock_section_is_cut_out_of_the_status() {
        let status = "x\n------------------------\nLATEST DETECTED DEADLOCK\n------------------------\n\
                      *** (1) TRANSACTION:\nINSERT INTO t\n------------\nTRANSACTIONS\n------------\nmore";
        assert_eq!(
            deadlock_section(status).as_deref(),
            Some("*** (1) TRANSACTION:\nINSERT INTO t")
        );
        assert_eq!(deadlock_section("no deadlock yet"), None);
    }
}
