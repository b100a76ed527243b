//! Write transactions, which begin differently per backend.

use diesel::{connection::SimpleConnection, Connection};

use crate::{db::DbConnection, StoreError};

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

    use crate::{db::DbConnection, StoreError};

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
