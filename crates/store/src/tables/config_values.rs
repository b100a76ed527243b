//! Named configuration values set through the API (the application settings as JSON, ...), kept in
//! the database so that restarts and every process see the same configuration.

use diesel::prelude::*;

use crate::{clock::unix_now, db::DbConnection, schema::config_values, StoreError};

/// MySQL's `TEXT` holds 65,535 bytes; the limit applies on every backend so they behave alike.
pub const MAX_CONFIG_VALUE_BYTES: usize = 65_535;
/// The column is `VARCHAR(64)`.
const MAX_NAME_CHARS: usize = 64;

pub(crate) fn get(conn: &mut DbConnection, name: &str) -> Result<Option<String>, StoreError> {
    Ok(config_values::table
        .find(name)
        .select(config_values::value)
        .first(conn)
        .optional()?)
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
