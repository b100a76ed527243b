//! Server-side record of issued bearer tokens: a token is valid only while its row exists.

use diesel::prelude::*;

use crate::{db::DbConnection, schema::tokens, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// The token's random id (not the whole JWT).
    pub id: String,
    pub username: String,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = tokens)]
struct TokenRecord {
    id: String,
    username: String,
    issued_at: i64,
    expires_at: i64,
}

/// Fails with `Conflict` when the id is already stored.
pub(crate) fn insert(conn: &mut DbConnection, token: StoredToken) -> Result<(), StoreError> {
    diesel::insert_into(tokens::table)
        .values(&TokenRecord::from(token))
        .execute(conn)?;
    Ok(())
}

pub(crate) fn find(conn: &mut DbConnection, id: &str) -> Result<Option<StoredToken>, StoreError> {
    let record = tokens::table
        .find(id)
        .select(TokenRecord::as_select())
        .first(conn)
        .optional()?;
    Ok(record.map(StoredToken::from))
}

/// False when no such token was stored.
pub(crate) fn delete(conn: &mut DbConnection, id: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(tokens::table.find(id)).execute(conn)? > 0)
}

/// Removes every token whose expiry is at or before `now_unix`; returns how many.
pub(crate) fn delete_expired(conn: &mut DbConnection, now_unix: i64) -> Result<usize, StoreError> {
    Ok(diesel::delete(tokens::table.filter(tokens::expires_at.le(now_unix))).execute(conn)?)
}

/// Every token of `username`, as when the user is deleted.
pub(crate) fn delete_of_user(conn: &mut DbConnection, username: &str) -> Result<usize, StoreError> {
    Ok(diesel::delete(tokens::table.filter(tokens::username.eq(username))).execute(conn)?)
}

impl From<StoredToken> for TokenRecord {
    fn from(token: StoredToken) -> Self {
        TokenRecord {
            id: token.id,
            username: token.username,
            issued_at: token.issued_at,
            expires_at: token.expires_at,
        }
    }
}

impl From<TokenRecord> for StoredToken {
    fn from(record: TokenRecord) -> Self {
        StoredToken {
            id: record.id,
            username: record.username,
            issued_at: record.issued_at,
            expires_at: record.expires_at,
        }
    }
}
