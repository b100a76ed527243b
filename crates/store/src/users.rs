//! Web API users (On-Prem §5.1): credentials, role and the forced-password-change flag.

use std::fmt;

use diesel::prelude::*;

use crate::{
    schema::{tokens, users},
    store::unix_now,
    Store, StoreError,
};

#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub must_change_password: bool,
    pub created_at: i64,
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
}

impl Store {
    /// Fails with `Conflict` when the username is taken.
    pub async fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        let row = UserRecord::stamped(user);
        self.run(move |conn| {
            diesel::insert_into(users::table)
                .values(&row)
                .execute(conn)?;
            Ok(row.into_user())
        })
        .await
    }

    /// Inserts the user unless one with that name exists; returns whether it inserted.
    /// Safe when several processes do this at once (e.g. the default admin at startup).
    pub async fn ensure_user(&self, user: NewUser) -> Result<bool, StoreError> {
        if self.find_user(&user.username).await?.is_some() {
            return Ok(false);
        }
        match self.create_user(user).await {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(other) => Err(other),
        }
    }

    pub async fn find_user(&self, username: &str) -> Result<Option<User>, StoreError> {
        let username = username.to_string();
        self.run(move |conn| {
            let row = users::table
                .filter(users::username.eq(&username))
                .select(UserRecord::as_select())
                .first(conn)
                .optional()?;
            Ok(row.map(UserRecord::into_user))
        })
        .await
    }

    /// Returns false when there is no such user. Existing tokens stay valid (On-Prem behaviour).
    pub async fn update_password(
        &self,
        username: &str,
        password_hash: &str,
        must_change_password: bool,
    ) -> Result<bool, StoreError> {
        let (username, password_hash) = (username.to_string(), password_hash.to_string());
        self.run(move |conn| {
            let updated = diesel::update(users::table.filter(users::username.eq(&username)))
                .set((
                    users::password_hash.eq(&password_hash),
                    users::must_change_password.eq(must_change_password),
                ))
                .execute(conn)?;
            Ok(updated > 0)
        })
        .await
    }

    /// Deletes the user and all of its tokens together; returns false when there is no such user.
    pub async fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        let username = username.to_string();
        self.run(move |conn| {
            crate::dialect::write_transaction(conn, |conn| {
                diesel::delete(tokens::table.filter(tokens::username.eq(&username)))
                    .execute(conn)?;
                let deleted = diesel::delete(users::table.filter(users::username.eq(&username)))
                    .execute(conn)?;
                Ok(deleted > 0)
            })
        })
        .await
    }
}

impl UserRecord {
    fn stamped(user: NewUser) -> Self {
        UserRecord {
            username: user.username,
            password_hash: user.password_hash,
            role: user.role,
            must_change_password: user.must_change_password,
            created_at: unix_now(),
        }
    }

    fn into_user(self) -> User {
        User {
            username: self.username,
            password_hash: self.password_hash,
            role: self.role,
            must_change_password: self.must_change_password,
            created_at: self.created_at,
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
