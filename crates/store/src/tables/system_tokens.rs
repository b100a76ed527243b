//! Long-lived ("system user") bearer tokens: created by an administrator, never expiring, valid
//! while their row exists. Only the token's SHA-256 is stored; the caller hashes what a request
//! presents and looks the hash up.

use diesel::prelude::*;
use wa_api::users::Role;

use crate::db::{write_transaction, DbConnection};
use crate::schema::system_tokens;
use crate::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemToken {
    /// The public id the API lists and revokes by (not the secret).
    pub id: String,
    pub name: String,
    pub role: Role,
    /// Lower-case hex SHA-256 of the token.
    pub token_hash: String,
    /// Unix seconds.
    pub created_at: i64,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = system_tokens)]
struct SystemTokenRecord {
    id: String,
    name: String,
    role: String,
    token_hash: String,
    created_at: i64,
}

/// Fails with `Conflict` when the id or the hash is already stored.
pub(crate) fn insert(conn: &mut DbConnection, token: SystemToken) -> Result<(), StoreError> {
    let record = SystemTokenRecord {
        id: token.id,
        name: token.name,
        role: token.role.as_str().to_string(),
        token_hash: token.token_hash,
        created_at: token.created_at,
    };
    diesel::insert_into(system_tokens::table)
        .values(&record)
        .execute(conn)?;
    Ok(())
}

/// The token whose hash is `token_hash`: the bearer check of every call made with one.
pub(crate) fn find_by_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<SystemToken>, StoreError> {
    system_tokens::table
        .filter(system_tokens::token_hash.eq(token_hash))
        .select(SystemTokenRecord::as_select())
        .first(conn)
        .optional()?
        .map(SystemToken::try_from)
        .transpose()
}

/// Every token, oldest first (then by id, so the order is the same on every backend).
pub(crate) fn list(conn: &mut DbConnection) -> Result<Vec<SystemToken>, StoreError> {
    system_tokens::table
        .order((system_tokens::created_at.asc(), system_tokens::id.asc()))
        .select(SystemTokenRecord::as_select())
        .load(conn)?
        .into_iter()
        .map(SystemToken::try_from)
        .collect()
}

/// The deleted token (its hash tells the caller which cache entry to forget); `None` when no
/// such token was stored.
pub(crate) fn delete(conn: &mut DbConnection, id: &str) -> Result<Option<SystemToken>, StoreError> {
    write_transaction(conn, |conn| {
        let found = system_tokens::table
            .find(id)
            .select(SystemTokenRecord::as_select())
            .first(conn)
            .optional()?;
        let Some(found) = found else {
            return Ok(None);
        };
        diesel::delete(system_tokens::table.find(id)).execute(conn)?;
        SystemToken::try_from(found).map(Some)
    })
}

impl TryFrom<SystemTokenRecord> for SystemToken {
    type Error = StoreError;

    fn try_from(record: SystemTokenRecord) -> Result<Self, StoreError> {
        // Only this module writes the column, so another value is a damaged row: refused rather
        // than guessed, since a guess could grant a role nobody gave.
        let role = Role::parse(&record.role).ok_or_else(|| {
            StoreError::Query(format!(
                "system token {} has an unknown role {:?}",
                record.id, record.role
            ))
        })?;
        Ok(SystemToken {
            id: record.id,
            name: record.name,
            role,
            token_hash: record.token_hash,
            created_at: record.created_at,
        })
    }
}
