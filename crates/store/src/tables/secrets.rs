//! Installation-wide generated secrets (e.g. the JWT signing key) that every process must share,
//! sealed at rest.

use diesel::prelude::*;

use crate::db::{find_or_insert, DbConnection};
use crate::{clock::unix_now, schema::secrets, Sealer, StoreError};

/// The stored value of `name`, storing `value_if_absent` first if there is none; the first
/// writer wins, also across processes.
pub(crate) fn get_or_insert(
    conn: &mut DbConnection,
    sealer: &Sealer,
    name: &str,
    value_if_absent: String,
) -> Result<String, StoreError> {
    let place = place(name);
    let sealed = sealer.seal(&place, &value_if_absent)?;
    let stored = find_or_insert(
        conn,
        |conn| find(conn, name),
        |conn| {
            diesel::insert_into(secrets::table)
                .values((
                    secrets::name.eq(name),
                    secrets::value.eq(&sealed),
                    secrets::created_at.eq(unix_now()),
                ))
                .execute(conn)?;
            Ok(sealed.clone())
        },
    )?;
    sealer.open_plain(&place, &stored)
}

/// Seals every plain value or one sealed with the previous key; returns how many.
pub(crate) fn reseal(conn: &mut DbConnection, sealer: &Sealer) -> Result<usize, StoreError> {
    let rows: Vec<(String, String)> = secrets::table
        .select((secrets::name, secrets::value))
        .load(conn)?;
    // Only if nobody changed the row since we read it.
    sealer.reseal_rows(
        rows,
        |name| place(name),
        |name, stored, sealed| {
            Ok(
                diesel::update(secrets::table.find(name).filter(secrets::value.eq(stored)))
                    .set(secrets::value.eq(sealed))
                    .execute(conn)?,
            )
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

/// Where a value lives, authenticated with it.
fn place(name: &str) -> String {
    format!("secrets/{name}")
}
