//! Named configuration values set through the API (the application settings as JSON, ...), kept in
//! the database so that restarts and every process see the same configuration. The values named
//! in `wa_api::keys::SEALED` (the two-step PIN, the media providers' passwords, ...) are sealed at
//! rest; the rest are plain.

use diesel::prelude::*;

use crate::{clock::unix_now, db::DbConnection, schema::config_values, Sealer, StoreError};

/// MySQL's `TEXT` holds 65,535 bytes; the limit applies on every backend so they behave alike.
pub const MAX_CONFIG_VALUE_BYTES: usize = 65_535;
/// The column is `VARCHAR(64)`.
const MAX_NAME_CHARS: usize = 64;

pub(crate) fn get(
    conn: &mut DbConnection,
    sealer: &Sealer,
    name: &str,
) -> Result<Option<String>, StoreError> {
    let stored: Option<String> = config_values::table
        .find(name)
        .select(config_values::value)
        .first(conn)
        .optional()?;
    match stored {
        Some(stored) if is_sealed(name) => sealer.open_plain(&place(name), &stored).map(Some),
        other => Ok(other),
    }
}

/// `value` as it is to be stored under `name`: sealed when the name is a secret's.
pub(crate) fn to_store(sealer: &Sealer, name: &str, value: &str) -> Result<String, StoreError> {
    if is_sealed(name) {
        sealer.seal(&place(name), value)
    } else {
        Ok(value.to_string())
    }
}

/// Seals every secret value stored plain or with the previous key; returns how many.
pub(crate) fn reseal(conn: &mut DbConnection, sealer: &Sealer) -> Result<usize, StoreError> {
    let rows: Vec<(String, String)> = config_values::table
        .filter(config_values::name.eq_any(wa_api::keys::SEALED))
        .select((config_values::name, config_values::value))
        .load(conn)?;
    // Only if nobody changed the value since we read it.
    sealer.reseal_rows(
        rows,
        |name| place(name),
        |name, stored, sealed| {
            Ok(diesel::update(
                config_values::table
                    .find(name)
                    .filter(config_values::value.eq(stored)),
            )
            .set(config_values::value.eq(sealed))
            .execute(conn)?)
        },
    )
}

fn is_sealed(name: &str) -> bool {
    wa_api::keys::SEALED.contains(&name)
}

/// Where a value lives, authenticated with it.
fn place(name: &str) -> String {
    format!("config_values/{name}")
}

/// False when nothing was stored under `name`.
pub(crate) fn delete(conn: &mut DbConnection, name: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(config_values::table.find(name)).execute(conn)? > 0)
}

/// Stores `value` under `name`, replacing any previous value; the last writer wins.
///
/// Update first (the common case once a value exists), insert when no row matched. Portable: no
/// per-backend upsert syntax. If another writer inserts between our update and our insert, the
/// unique key refuses ours and one more round updates their row instead.
pub(crate) fn upsert(conn: &mut DbConnection, name: &str, value: &str) -> Result<(), StoreError> {
    for _round in 0..2 {
        let now = unix_now();
        // Diesel's MySQL client counts matched rows, so rewriting the same value still reports 1.
        let updated = diesel::update(config_values::table.find(name))
            .set((
                config_values::value.eq(value),
                config_values::updated_at.eq(now),
            ))
            .execute(conn)?;
        if updated > 0 {
            return Ok(());
        }
        let inserted = diesel::insert_into(config_values::table)
            .values((
                config_values::name.eq(name),
                config_values::value.eq(value),
                config_values::updated_at.eq(now),
            ))
            .execute(conn);
        match inserted {
            Ok(_) => return Ok(()),
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    // Inserted and deleted again by others twice in a row: report it rather than loop.
    Err(StoreError::Conflict)
}

pub(crate) fn check_sizes(name: &str, value: &str) -> Result<(), StoreError> {
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(StoreError::Query(format!(
            "config value name must have 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    if value.len() > MAX_CONFIG_VALUE_BYTES {
        return Err(StoreError::Query(format!(
            "config value '{name}' is {} bytes, more than {MAX_CONFIG_VALUE_BYTES}",
            value.len()
        )));
    }
    Ok(())
}
