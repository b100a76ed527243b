//! Server-side record of issued bearer tokens: a token is valid only while its row exists and its
//! user still has the token stamp it was issued under.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::{tokens, users};
use crate::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// The token's random id (not the whole JWT).
    pub id: String,
    pub username: String,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// The user's token stamp when the token was issued (`User::token_stamp`).
    pub user_stamp: String,
}

/// A token that is still honoured, with its user's current role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveToken {
    pub token: StoredToken,
    pub role: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = tokens)]
struct TokenRecord {
    id: String,
    username: String,
    issued_at: i64,
    expires_at: i64,
    user_stamp: String,
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

/// The token `id` if its user exists and still has the stamp the token was issued under, with
/// the user's role: a bearer check in one query (it runs on every call). Expiry is the caller's.
pub(crate) fn find_live(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<LiveToken>, StoreError> {
    let row = tokens::table
        .inner_join(
            users::table.on(users::username
                .eq(tokens::username)
                .and(users::token_stamp.eq(tokens::user_stamp))),
        )
        .filter(tokens::id.eq(id))
        .select((TokenRecord::as_select(), users::role))
        .first::<(TokenRecord, String)>(conn)
        .optional()?;
    Ok(row.map(|(record, role)| LiveToken {
        token: record.into(),
        role,
    }))
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
            user_stamp: token.user_stamp,
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
            user_stamp: record.user_stamp,
        }
    }
}
