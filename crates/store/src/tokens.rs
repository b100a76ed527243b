//! Server-side record of issued bearer tokens: a token is valid only while its row exists.

use diesel::prelude::*;

use crate::{schema::tokens, Store, StoreError};

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

impl Store {
    /// Fails with `Conflict` when the id is already stored.
    pub async fn insert_token(&self, token: StoredToken) -> Result<(), StoreError> {
        let record = TokenRecord::from(token);
        self.run(move |conn| {
            diesel::insert_into(tokens::table)
                .values(&record)
                .execute(conn)?;
            Ok(())
        })
        .await
    }

    pub async fn find_token(&self, id: &str) -> Result<Option<StoredToken>, StoreError> {
        let id = id.to_string();
        self.run(move |conn| {
            let record = tokens::table
                .find(&id)
                .select(TokenRecord::as_select())
                .first(conn)
                .optional()?;
            Ok(record.map(StoredToken::from))
        })
        .await
    }

    /// Returns false when no such token was stored.
    pub async fn delete_token(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.run(move |conn| Ok(diesel::delete(tokens::table.find(&id)).execute(conn)? > 0))
            .await
    }

    /// Removes every token whose expiry is at or before `now_unix`; returns how many.
    pub async fn delete_expired_tokens(&self, now_unix: i64) -> Result<u64, StoreError> {
        self.run(move |conn| {
            let deleted = diesel::delete(tokens::table.filter(tokens::expires_at.le(now_unix)))
                .execute(conn)?;
            Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
        })
        .await
    }
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
