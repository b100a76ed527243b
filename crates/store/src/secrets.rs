//! Installation-wide generated secrets (e.g. the JWT signing key) that every process must share.

use diesel::prelude::*;

use crate::{connection::DbConnection, schema::secrets, store::unix_now, Store, StoreError};

impl Store {
    /// Returns the stored value of `name`, storing `value_if_absent` first if there is none.
    /// The first writer wins, also across processes, so all of them end up with the same secret.
    pub async fn get_or_insert_secret(&self, name: &str, value_if_absent: String) -> Result<String, StoreError> {
        let name = name.to_string();
        self.run(move |conn| {
            // Look first so the common case does not make the server log a unique violation.
            if let Some(value) = find_secret(conn, &name)? {
                return Ok(value);
            }
            let inserted = diesel::insert_into(secrets::table)
                .values((
                    secrets::name.eq(&name),
                    secrets::value.eq(&value_if_absent),
                    secrets::created_at.eq(unix_now()),
                ))
                .execute(conn);
            match inserted.map_err(StoreError::from) {
                Ok(_) => Ok(value_if_absent),
                Err(StoreError::Conflict) => find_secret(conn, &name)?
                    .ok_or_else(|| StoreError::Query(format!("secret {name} vanished right after a conflict"))),
                Err(other) => Err(other),
            }
        })
        .await
    }
}

fn find_secret(conn: &mut DbConnection, name: &str) -> Result<Option<String>, StoreError> {
    Ok(secrets::table
        .find(name)
        .select(secrets::value)
        .first(conn)
        .optional()?)
}
