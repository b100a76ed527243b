//! "Insert unless present, then return what is stored", portable and safe between processes.
//! Per-backend upserts (`INSERT IGNORE`, `ON CONFLICT DO NOTHING`) are not needed: the unique key
//! decides the race and the loser reads the winner's row.

use crate::{connection::DbConnection, StoreError};

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
