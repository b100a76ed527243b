//! Named binary values set through the API (the profile photo), too large for `config_values`.

use diesel::prelude::*;

use crate::{dialect, schema::blobs, store::unix_now, Store, StoreError};

/// MySQL's `max_allowed_packet` defaults to 16 MB (64 MB on recent servers); stay well under it.
pub const MAX_BLOB_BYTES: usize = 8 * 1024 * 1024;

impl Store {
    pub async fn get_blob(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let name = name.to_string();
        self.run(move |conn| {
            Ok(blobs::table
                .find(&name)
                .select(blobs::data)
                .first(conn)
                .optional()?)
        })
        .await
    }

    /// Stores `data` under `name`, replacing any previous value.
    pub async fn put_blob(&self, name: &str, data: Vec<u8>) -> Result<(), StoreError> {
        if data.len() > MAX_BLOB_BYTES {
            return Err(StoreError::Query(format!(
                "blob '{name}' is {} bytes, more than {MAX_BLOB_BYTES}",
                data.len()
            )));
        }
        let name = name.to_string();
        self.run(move |conn| {
            dialect::write_transaction(conn, |conn| {
                diesel::delete(blobs::table.find(&name)).execute(conn)?;
                diesel::insert_into(blobs::table)
                    .values((
                        blobs::name.eq(&name),
                        blobs::data.eq(&data),
                        blobs::updated_at.eq(unix_now()),
                    ))
                    .execute(conn)?;
                Ok(())
            })
        })
        .await
    }

    /// Returns false when nothing was stored under `name`.
    pub async fn delete_blob(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_string();
        self.run(move |conn| Ok(diesel::delete(blobs::table.find(&name)).execute(conn)? > 0))
            .await
    }
}
