//! Inserts that must not fail when the row is there already, written once for any table:
//! "insert unless present, then return what is stored" and "insert unless a duplicate key".

use crate::{db::DbConnection, StoreError};

/// Returns the stored row, inserting ours first if there is none; when several writers race, the
/// first to insert wins and everyone returns its row.
pub(crate) fn find_or_insert<T>(
    conn: &mut DbConnection,
    find: impl Fn(&mut DbConnection) -> Result<Option<T>, StoreError>,
    insert: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    // Looking first keeps the common case free of unique violations (which PostgreSQL logs).
    if let Some(stored) = find(conn)? {
        return Ok(stored);
    }
    match insert(conn) {
        Err(StoreError::Conflict) => find(conn)?.ok_or_else(|| {
            StoreError::Query("row deleted right after it won an insert race".to_string())
        }),
        inserted => inserted,
    }
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
            $crate::db::DbConnection::Mysql(conn) => {
                match diesel::insert_into($table)
                    .values($values)
                    .execute(conn)
                    .map_err($crate::StoreError::from)
                {
                    Err($crate::StoreError::Conflict) => Ok(0),
                    other => other,
                }
            }
            $crate::db::DbConnection::Postgresql(conn) => diesel::insert_into($table)
                .values($values)
                .on_conflict($key)
                .do_nothing()
                .execute(conn)
                .map_err($crate::StoreError::from),
            $crate::db::DbConnection::Sqlite(conn) => diesel::insert_into($table)
                .values($values)
                .on_conflict($key)
                .do_nothing()
                .execute(conn)
                .map_err($crate::StoreError::from),
        }
    };
}
pub(crate) use insert_unless_duplicate;
