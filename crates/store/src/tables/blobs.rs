//! Named binary values set through the API (the profile photo), too large for `config_values`.

use diesel::prelude::*;

use crate::db::{write_transaction, DbConnection};
use crate::{clock::unix_now, schema::blobs, StoreError};

/// MySQL's `max_allowed_packet` defaults to 16 MB (64 MB on recent servers); stay well under it.
pub const MAX_BLOB_BYTES: usize = 8 * 1024 * 1024;

pub(crate) fn get(conn: &mut DbConnection, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(blobs::table
        .find(name)
        .select(blobs::data)
        .first(conn)
        .optional()?)
}

/// Stores `data` under `name`, replacing any previous value.
pub(crate) fn put(conn: &mut DbConnection, name: &str, data: &[u8]) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        diesel::delete(blobs::table.find(name)).execute(conn)?;
        diesel::insert_into(blobs::table)
            .values((
                blobs::name.eq(name),
                blobs::data.eq(data),
                blobs::updated_at.eq(unix_now()),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// False when nothing was stored under `name`.
pub(crate) fn delete(conn: &mut DbConnection, name: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(blobs::table.find(name)).execute(conn)? > 0)
}

/// Refuses a blob larger than [`MAX_BLOB_BYTES`] before it reaches the database.
pub(crate) fn check_size(name: &str, data: &[u8]) -> Result<(), StoreError> {
    if data.len() > MAX_BLOB_BYTES {
        return Err(StoreError::Query(format!(
            "blob '{name}' is {} bytes, more than {MAX_BLOB_BYTES}",
            data.len()
        )));
    }
    Ok(())
}
