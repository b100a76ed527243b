//! One connection type over all three backends, opened for exactly the backend the URL names, with
//! the per-connection session settings applied.

use std::path::Path;

use diesel::{
    connection::SimpleConnection, Connection, MysqlConnection, PgConnection, SqliteConnection,
};

use crate::{backend::DbTarget, StoreError};

/// Queries are written once against this type; the few backend-specific statements match on the
/// variant, next to the table they concern.
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
            let mut conn = MysqlConnection::establish(url.as_str())?;
            if url.query_pairs().any(|(key, _)| key == "ssl_ca") {
                require_encryption(&mut conn)?;
            }
            DbConnection::Mysql(conn)
        }
        DbTarget::Postgres { url, .. } => {
            DbConnection::Postgresql(PgConnection::establish(url.as_str())?)
        }
        DbTarget::Sqlite { path } => DbConnection::Sqlite(open_sqlite_file(path)?),
    };
    configure_session(&mut conn)?;
    Ok(conn)
}

#[derive(diesel::QueryableByName)]
struct StatusRow {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = Value)]
    value: String,
}

/// With TLS configured (`WA_DB_SSL_CA`), a MySQL connection must be encrypted. libmariadb asks for
/// TLS when given a CA but ignores diesel's `ssl_mode`, the option that would make it mandatory,
/// so the session's cipher is checked instead: empty means plain text, and the connection is
/// refused rather than used.
fn require_encryption(conn: &mut MysqlConnection) -> Result<(), StoreError> {
    use diesel::RunQueryDsl;
    let rows: Vec<StatusRow> =
        diesel::sql_query("SHOW SESSION STATUS LIKE 'Ssl_cipher'").load(conn)?;
    match rows.first() {
        Some(row) if !row.value.is_empty() => Ok(()),
        _ => Err(StoreError::Config(
            "WA_DB_SSL_CA is set but the MySQL connection is not encrypted (does the server have TLS on?)"
                .into(),
        )),
    }
}

fn open_sqlite_file(path: &Path) -> Result<SqliteConnection, StoreError> {
    let path = path.to_str().ok_or_else(|| {
        StoreError::Config(format!("SQLite path {} is not UTF-8", path.display()))
    })?;
    Ok(SqliteConnection::establish(path)?)
}

/// How long a server lets one of our transactions wait for its client between two statements
/// before it ends the session. Ours never pause there: a transaction idle that long belongs to
/// a process that was cut off from the database (a partition) or frozen, and the row locks it
/// holds would stall the coreapp taking over its shard, on PostgreSQL for ever.
const IDLE_TRANSACTION_TIMEOUT_SECS: u32 = 10;

/// Per-connection settings. SQLite: busy_timeout comes first so that switching to WAL waits for
/// another process holding the file instead of failing at once. Servers: the idle-transaction
/// bound (MariaDB's `idle_transaction_timeout`; MySQL has no such variable, so there an
/// orphaned transaction lasts until the server notices the dead connection).
fn configure_session(conn: &mut DbConnection) -> Result<(), StoreError> {
    match conn {
        DbConnection::Sqlite(conn) => {
            conn.batch_execute("PRAGMA busy_timeout = 30000;")?;
            switch_to_wal(conn)?;
            conn.batch_execute("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
        }
        DbConnection::Postgresql(conn) => conn.batch_execute(&format!(
            "SET idle_in_transaction_session_timeout = '{IDLE_TRANSACTION_TIMEOUT_SECS}s'"
        ))?,
        DbConnection::Mysql(conn) => {
            let set =
                format!("SET SESSION idle_transaction_timeout = {IDLE_TRANSACTION_TIMEOUT_SECS}");
            if let Err(error) = conn.batch_execute(&set) {
                tracing::debug!("no idle_transaction_timeout on this server (MySQL): {error}");
            }
            read_committed(conn)?;
        }
    }
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct BinlogRow {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log_bin: i32,
    #[diesel(sql_type = diesel::sql_types::Text)]
    binlog_format: String,
}

/// MySQL/MariaDB sessions run at READ COMMITTED, PostgreSQL's default, instead of InnoDB's
/// REPEATABLE READ. At REPEATABLE READ a locking statement also locks the gaps between index
/// records it passes, including the gap where a row it looked for and did not find would go;
/// two transactions each holding such a gap and then inserting into it deadlock. READ COMMITTED
/// takes no gap locks (only duplicate-key checks still do), and every query of the store already
/// runs at this level on PostgreSQL: none relies on a snapshot that lasts the whole transaction.
///
/// A server that writes a statement-based binary log refuses writes at READ COMMITTED (InnoDB
/// can only be logged row by row there), so such a server keeps REPEATABLE READ, with a warning.
fn read_committed(conn: &mut MysqlConnection) -> Result<(), StoreError> {
    use diesel::RunQueryDsl;
    let rows: Vec<BinlogRow> = diesel::sql_query(
        "SELECT CAST(@@log_bin AS SIGNED) AS log_bin, CAST(@@binlog_format AS CHAR) AS binlog_format",
    )
    .load(conn)?;
    let statement_log = rows
        .first()
        .is_some_and(|row| row.log_bin != 0 && row.binlog_format.eq_ignore_ascii_case("STATEMENT"));
    if statement_log {
        // Once per process, not once per pooled connection.
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            tracing::warn!(
            "the database server writes a statement-based binary log (binlog_format=STATEMENT): \
             sessions stay at REPEATABLE READ, where concurrent writes can deadlock; set \
             binlog_format to ROW or MIXED"
        )
        });
        return Ok(());
    }
    conn.batch_execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")?;
    Ok(())
}

/// Attempts at switching a SQLite file to WAL, 50 ms apart.
const WAL_SWITCH_ATTEMPTS: u32 = 100;

/// Switching a new file to WAL needs it to itself, and SQLite answers "database is locked" at
/// once instead of waiting (no busy handler for this lock): two processes opening the same fresh
/// file together hit it (seen in `concurrent_connects_on_a_fresh_database_both_succeed`). Once the
/// file is in WAL mode the statement needs no lock, so a short retry settles the race.
fn switch_to_wal(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    let mut attempt = 1;
    loop {
        match conn.batch_execute("PRAGMA journal_mode = WAL;") {
            Ok(()) => return Ok(()),
            Err(error) if attempt < WAL_SWITCH_ATTEMPTS && error.to_string().contains("locked") => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(error) => return Err(error.into()),
        }
    }
}
