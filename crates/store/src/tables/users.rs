//! Web API users (On-Prem §5.1): credentials, role and the forced-password-change flag.

use std::fmt;

use diesel::prelude::*;

use super::tokens;
use crate::db::{write_transaction, DbConnection};
use crate::{clock::unix_now, schema::users, StoreError};

#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub must_change_password: bool,
    pub created_at: i64,
    /// Replaced on every password change; a token is valid only under the stamp it was issued
    /// with (see `tokens::find_live`).
    pub token_stamp: String,
}

#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub must_change_password: bool,
}

/// The stored columns of a user (the numeric id is internal to the database).
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
struct UserRecord {
    username: String,
    password_hash: String,
    role: String,
    must_change_password: bool,
    created_at: i64,
    token_stamp: String,
}

/// Fails with `Conflict` when the username is taken.
pub(crate) fn create(conn: &mut DbConnection, user: NewUser) -> Result<User, StoreError> {
    let row = UserRecord::stamped(user);
    diesel::insert_into(users::table)
        .values(&row)
        .execute(conn)?;
    Ok(row.into_user())
}

pub(crate) fn find(conn: &mut DbConnection, username: &str) -> Result<Option<User>, StoreError> {
    let row = users::table
        .filter(users::username.eq(username))
        .select(UserRecord::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(UserRecord::into_user))
}

/// Sets the password under a new token stamp and deletes every token the user holds, together: a
/// token issued under the old password must not outlive it, not even one a login that checked
/// the old password writes after this commits (its stamp is the old one). Returns the user as
/// now stored, `None` when there is no such user.
pub(crate) fn update_password(
    conn: &mut DbConnection,
    username: &str,
    password_hash: &str,
    must_change_password: bool,
) -> Result<Option<User>, StoreError> {
    write_transaction(conn, |conn| {
        let updated = diesel::update(users::table.filter(users::username.eq(username)))
            .set((
                users::password_hash.eq(password_hash),
                users::must_change_password.eq(must_change_password),
                users::token_stamp.eq(new_token_stamp()),
            ))
            .execute(conn)?;
        if updated == 0 {
            return Ok(None);
        }
        tokens::delete_of_user(conn, username)?;
        find(conn, username)
    })
}

/// 32 random hex digits: unique per user and per change, so no earlier stamp ever comes back.
fn new_token_stamp() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Deletes the user and all of its tokens together; false when there is no such user.
pub(crate) fn delete_with_tokens(
    conn: &mut DbConnection,
    username: &str,
) -> Result<bool, StoreError> {
    write_transaction(conn, |conn| {
        tokens::delete_of_user(conn, username)?;
        let deleted =
            diesel::delete(users::table.filter(users::username.eq(username))).execute(conn)?;
        Ok(deleted > 0)
    })
}

impl UserRecord {
    fn stamped(user: NewUser) -> Self {
        UserRecord {
            username: user.username,
            password_hash: user.password_hash,
            role: user.role,
            must_change_password: user.must_change_password,
            created_at: unix_now(),
            token_stamp: new_token_stamp(),
        }
    }

    fn into_user(self) -> User {
        User {
            username: self.username,
            password_hash: self.password_hash,
            role: self.role,
            must_change_password: self.must_change_password,
            created_at: self.created_at,
            token_stamp: self.token_stamp,
        }
    }
}

/// Password hashes stay out of logs.
impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .field("role", &self.role)
            .field("must_change_password", &self.must_change_password)
            .field("created_at", &self.created_at)
            .field("token_stamp", &self.token_stamp)
            .finish()
    }
}

/// Password hashes stay out of logs.
impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .field("role", &self.role)
            .field("must_change_password", &self.must_change_password)
            .finish()
    }
}
