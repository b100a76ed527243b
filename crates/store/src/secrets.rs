//! Installation-wide generated secrets (e.g. the JWT signing key) that every process must share.

use diesel::prelude::*;

use crate::{
    connection::DbConnection, first_writer, schema::secrets, store::unix_now, Store, StoreError,
};

impl Store {
    /// Returns the stored value of `name`, storing `value_if_absent` first if there is none.
    /// The first writer wins, also across processes, so all of them end up with the same secret.
    pub async fn get_or_insert_secret(
        &self,
        name: &str,
        value_if_absent: String,
    ) -> Result<String, StoreError> {
        let name = name.to_string();
        self.run(move |conn| {
            first_writer::find_or_insert(
                conn,
                |conn| find_secret(conn, &name),
                |conn| {
                    diesel::insert_into(secrets::table)
                        .values((
                            secrets::name.eq(&name),
                            secrets::value.eq(&value_if_absent),
                            secrets::created_at.eq(unix_now()),
                        ))
                        .execute(conn)?;
                    Ok(value_if_absent)
                },
            )
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
