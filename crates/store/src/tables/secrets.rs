//! Installation-wide generated secrets (e.g. the JWT signing key) that every process must share.

use diesel::prelude::*;

use crate::db::{find_or_insert, DbConnection};
use crate::{clock::unix_now, schema::secrets, StoreError};

/// The stored value of `name`, storing `value_if_absent` first if there is none; the first
/// writer wins, also across processes.
pub(crate) fn get_or_insert(
    conn: &mut DbConnection,
    name: &str,
    value_if_absent: String,
) -> Result<String, StoreError> {
    find_or_insert(
        conn,
        |conn| find(conn, name),
        |conn| {
            diesel::insert_into(secrets::table)
                .values((
                    secrets::name.eq(name),
                    secrets::value.eq(&value_if_absent),
                    secrets::created_at.eq(unix_now()),
                ))
                .execute(conn)?;
            Ok(value_if_absent)
        },
    )
}

fn find(conn: &mut DbConnection, name: &str) -> Result<Option<String>, StoreError> {
    Ok(secrets::table
        .find(name)
        .select(secrets::value)
        .first(conn)
        .optional()?)
}
