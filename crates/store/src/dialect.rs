//! Every piece of backend-specific SQL lives here: session settings, database creation and removal,
//! and the cross-process migration lock. Everything else is portable diesel DSL.

use std::{ffi::OsString, fs::File, path::Path};

use diesel::{
    connection::SimpleConnection,
    dsl::sql,
    sql_types::{Bool, Integer, Nullable, Text},
    Connection, ExpressionMethods, MysqlConnection, PgConnection, RunQueryDsl,
};
use url::Url;

use crate::{backend::DbTarget, connection::DbConnection, StoreError};

/// Name of the MySQL `GET_LOCK` lock that serialises migrations between processes.
const MYSQL_MIGRATION_LOCK: &str = "wa_onprem_migrations";
/// Seconds a process waits for another one's migrations before giving up.
const MIGRATION_LOCK_WAIT_SECS: u32 = 120;
/// PostgreSQL advisory lock key for migrations ("waonprem" in ASCII).
const PG_MIGRATION_LOCK_KEY: i64 = 0x7761_6f6e_7072_656d;

/// Per-connection settings. busy_timeout comes first so that switching to WAL waits for another
/// process holding the file instead of failing at once.
pub(crate) fn configure_session(conn: &mut DbConnection) -> Result<(), StoreError> {
    if let DbConnection::Sqlite(conn) = conn {
        conn.batch_execute("PRAGMA busy_timeout = 30000;")?;
        switch_to_wal(conn)?;
        conn.batch_execute("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
    }
    Ok(())
}

/// Attempts at switching a SQLite file to WAL, 50 ms apart.
const WAL_SWITCH_ATTEMPTS: u32 = 100;

/// Switching a new file to WAL needs it to itself, and SQLite answers "database is locked" at
/// once instead of waiting (no busy handler for this lock): two processes opening the same fresh
/// file together hit it (seen in `concurrent_connects_on_a_fresh_database_both_succeed`). Once the
/// file is in WAL mode the statement needs no lock, so a short retry settles the race.
fn switch_to_wal(conn: &mut diesel::SqliteConnection) -> Result<(), StoreError> {
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

/// Runs `work` in a transaction that will write. On SQLite it starts with `BEGIN IMMEDIATE`,
/// taking the write lock up front so the busy timeout applies: a deferred transaction that reads
/// first and writes later fails at once with "database is locked" when another connection wrote
/// in between. The server databases use an ordinary transaction.
pub(crate) fn write_transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    match conn {
        DbConnection::Postgresql(_) => conn.transaction(work),
        DbConnection::Sqlite(_) => {
            let run = |conn: &mut DbConnection, sql: &str| Ok(conn.batch_execute(sql)?);
            explicit_transaction(conn, "BEGIN IMMEDIATE", run, work)
        }
        DbConnection::Mysql(_) => explicit_transaction(conn, "BEGIN", mysql_statements::run, work),
    }
}

/// `work` between `begin` and `COMMIT`, each statement sent by `run`; `ROLLBACK` when it fails or
/// panics (a panicking write must not leave its transaction open on a pooled connection, where
/// the next `BEGIN` would commit it).
fn explicit_transaction<T>(
    conn: &mut DbConnection,
    begin: &str,
    run: impl Fn(&mut DbConnection, &str) -> Result<(), StoreError>,
    work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    run(conn, begin)?;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        work(conn).and_then(|value| run(conn, "COMMIT").map(|()| value))
    }));
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => {
            // Nothing to undo when COMMIT already ended the transaction; the error is the one to
            // report.
            let _ = run(conn, "ROLLBACK");
            Err(error)
        }
        Err(panic) => {
            let _ = run(conn, "ROLLBACK");
            std::panic::resume_unwind(panic)
        }
    }
}

/// `BEGIN`, `COMMIT` and `ROLLBACK` on MySQL as statements prepared once per connection. diesel
/// sends them through `batch_execute`, which switches multi-statement mode on and off around
/// each one: three round trips instead of one, which a profile of an inbound burst showed as a
/// fifth of the coreapp's time. MariaDB prepares them; a server that refuses (MySQL lists only
/// `COMMIT` among the statements it prepares) gets the `batch_execute` form from then on.
mod mysql_statements {
    use std::sync::atomic::{AtomicBool, Ordering};

    use diesel::mysql::Mysql;
    use diesel::query_builder::{AstPass, QueryFragment, QueryId};
    use diesel::{connection::SimpleConnection, MysqlConnection, QueryResult, RunQueryDsl};

    use crate::{connection::DbConnection, StoreError};

    /// Cleared when the server refused to prepare one of the statements.
    static PREPARED_WORKS: AtomicBool = AtomicBool::new(true);

    macro_rules! fixed_statement {
        ($name:ident, $sql:literal) => {
            /// A parameterless statement with a static query id, so diesel caches it prepared.
            #[derive(Debug, Clone, Copy, QueryId)]
            struct $name;

            impl QueryFragment<Mysql> for $name {
                fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Mysql>) -> QueryResult<()> {
                    out.push_sql($sql);
                    Ok(())
                }
            }

            impl RunQueryDsl<MysqlConnection> for $name {}
        };
    }

    fixed_statement!(Begin, "BEGIN");
    fixed_statement!(Commit, "COMMIT");
    fixed_statement!(Rollback, "ROLLBACK");

    /// Runs `BEGIN`, `COMMIT` or `ROLLBACK`.
    pub(super) fn run(conn: &mut DbConnection, sql: &str) -> Result<(), StoreError> {
        let DbConnection::Mysql(mysql) = conn else {
            return Ok(conn.batch_execute(sql)?);
        };
        if PREPARED_WORKS.load(Ordering::Relaxed) {
            let prepared = match sql {
                "BEGIN" => Begin.execute(mysql),
                "COMMIT" => Commit.execute(mysql),
                _ => Rollback.execute(mysql),
            };
            match prepared {
                Ok(_) => return Ok(()),
                // ER_UNSUPPORTED_PS: "This command is not supported in the prepared statement
                // protocol yet". Any other failure is the statement's own.
                Err(error) if error.to_string().contains("prepared statement protocol") => {
                    tracing::info!("the server does not prepare {sql}; using plain statements");
                    PREPARED_WORKS.store(false, Ordering::Relaxed);
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(mysql.batch_execute(sql)?)
    }
}

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

/// Runs `migrate` while holding the cross-process migration lock, so that of several processes
/// starting together exactly one applies each migration and the others wait and then find nothing
/// to do.
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

fn with_suffix(path: &Path, suffix: &str) -> OsString {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name
}

/// The MySQL server without a default database, to create or drop the one we want.
fn mysql_server_url(url: &Url) -> Url {
    let mut server = url.clone();
    server.set_path("");
    server
}

/// The `postgres` maintenance database, which exists on every PostgreSQL server.
fn pg_maintenance_url(url: &Url) -> Url {
    let mut server = url.clone();
    server.set_path("/postgres");
    server
}

/// Runs `insert_into($table).values($values)` and yields the rows added (0 when a row with the
/// same `$key` exists) without failing the surrounding transaction. PostgreSQL and SQLite say
/// `ON CONFLICT ($key) DO NOTHING`; MySQL has no such clause that keeps "inserted" and "already
/// there" apart (diesel connects with CLIENT_FOUND_ROWS, and `INSERT IGNORE` also swallows
/// truncation), but a duplicate key fails only the statement there, never the transaction, so
/// the plain insert is tried and the duplicate read as "already there". All three are diesel DSL
/// with a fixed shape, so each connection prepares the statement once and reuses it (a
/// `sql_query` is prepared, run and closed again on every call: three round trips on MySQL).
macro_rules! insert_unless_duplicate {
    ($conn:expr, $table:expr, $values:expr, $key:expr) => {
        match $conn {
            DbConnection::Mysql(conn) => {
                match diesel::insert_into($table)
                    .values($values)
                    .execute(conn)
                    .map_err(StoreError::from)
                {
                    Err(StoreError::Conflict) => Ok(0),
                    other => other,
                }
            }
            DbConnection::Postgresql(conn) => diesel::insert_into($table)
                .values($values)
                .on_conflict($key)
                .do_nothing()
                .execute(conn)
                .map_err(StoreError::from),
            DbConnection::Sqlite(conn) => diesel::insert_into($table)
                .values($values)
                .on_conflict($key)
                .do_nothing()
                .execute(conn)
                .map_err(StoreError::from),
        }
    };
}

/// Inserts a webhook row unless one with the same `event_key` exists; true when inserted.
pub(crate) fn insert_callback_unless_queued(
    conn: &mut DbConnection,
    callback: &crate::callbacks::NewCallback,
    now_ms: i64,
) -> Result<bool, StoreError> {
    use crate::schema::callbacks::dsl::*;
    let row = (
        event_key.eq(&callback.event_key),
        kind.eq(&callback.kind),
        body.eq(&callback.body),
        attempts.eq(0),
        next_attempt_ms.eq(now_ms),
        last_error.eq(""),
        created_ms.eq(now_ms),
    );
    let inserted: usize = insert_unless_duplicate!(conn, callbacks, row, event_key)?;
    Ok(inserted > 0)
}

/// Inserts a received message unless one with the same id exists; true when inserted. Folding
/// the existence check into the insert saves a statement per inbound message.
pub(crate) fn insert_inbound_unless_present(
    conn: &mut DbConnection,
    message: &crate::messages::InboundMessage,
) -> Result<bool, StoreError> {
    use crate::messages::{INBOUND, RECEIVED};
    use crate::schema::messages::dsl::*;
    let row = (
        id.eq(&message.id),
        direction.eq(INBOUND),
        peer.eq(&message.from),
        msg_type.eq(&message.msg_type),
        payload.eq(&message.payload),
        status.eq(RECEIVED),
        created_ms.eq(message.received_ms),
        updated_ms.eq(message.received_ms),
    );
    let inserted: usize = insert_unless_duplicate!(conn, messages, row, id)?;
    Ok(inserted > 0)
}

/// Moves outbound message `id` to `status` if its current status ranks within `from_rank..=to_rank`
/// (ranks of [`crate::messages::STATUS_ORDER`]), in one statement: the condition is the
/// compare-and-set, so no read precedes it. True when the row moved.
///
/// diesel never caches an `UPDATE` it builds (each one is prepared, run and closed: three round
/// trips on MySQL, three times per message), so this is a fixed-shape statement of our own that
/// every connection prepares once. The rank is spelled as a portable `CASE`.
pub(crate) fn advance_status(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    ranks: std::ops::RangeInclusive<i32>,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let update = status_update::AdvanceStatus {
        id,
        status,
        from_rank: *ranks.start(),
        to_rank: *ranks.end(),
        now_ms,
    };
    let moved = match conn {
        DbConnection::Mysql(conn) => update.execute(conn)?,
        DbConnection::Postgresql(conn) => update.execute(conn)?,
        DbConnection::Sqlite(conn) => update.execute(conn)?,
    };
    Ok(moved > 0)
}

mod status_update {
    use diesel::backend::Backend;
    use diesel::query_builder::{AstPass, QueryFragment, QueryId};
    use diesel::sql_types::{BigInt, Integer, Text};
    use diesel::{QueryResult, RunQueryDsl};

    use crate::messages::{OUTBOUND, STATUS_ORDER};

    pub(super) struct AdvanceStatus<'a> {
        pub(super) id: &'a str,
        pub(super) status: &'a str,
        pub(super) from_rank: i32,
        pub(super) to_rank: i32,
        pub(super) now_ms: i64,
    }

    /// The SQL text never changes, so the type alone can key the prepared-statement cache.
    impl QueryId for AdvanceStatus<'_> {
        type QueryId = AdvanceStatus<'static>;
        const HAS_STATIC_QUERY_ID: bool = true;
    }

    impl<DB> QueryFragment<DB> for AdvanceStatus<'_>
    where
        DB: Backend
            + diesel::sql_types::HasSqlType<Text>
            + diesel::sql_types::HasSqlType<BigInt>
            + diesel::sql_types::HasSqlType<Integer>,
        str: diesel::serialize::ToSql<Text, DB>,
        i64: diesel::serialize::ToSql<BigInt, DB>,
        i32: diesel::serialize::ToSql<Integer, DB>,
    {
        fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
            out.push_sql("UPDATE messages SET status = ");
            out.push_bind_param::<Text, str>(self.status)?;
            out.push_sql(", updated_ms = ");
            out.push_bind_param::<BigInt, i64>(&self.now_ms)?;
            out.push_sql(" WHERE id = ");
            out.push_bind_param::<Text, str>(self.id)?;
            out.push_sql(" AND direction = '");
            out.push_sql(OUTBOUND);
            out.push_sql("' AND (CASE status");
            for (rank, name) in STATUS_ORDER.iter().enumerate() {
                out.push_sql(&format!(" WHEN '{name}' THEN {rank}"));
            }
            out.push_sql(" ELSE 0 END) BETWEEN ");
            out.push_bind_param::<Integer, i32>(&self.from_rank)?;
            out.push_sql(" AND ");
            out.push_bind_param::<Integer, i32>(&self.to_rank)?;
            Ok(())
        }
    }

    impl<Conn> RunQueryDsl<Conn> for AdvanceStatus<'_> {}
}
