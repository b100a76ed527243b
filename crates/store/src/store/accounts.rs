//! Web API users, their bearer tokens, generated secrets and TLS certificates.

use super::Store;
use crate::tables::certs::{self, StoredCert};
use crate::tables::secrets;
use crate::tables::system_tokens::{self, SystemToken};
use crate::tables::tokens::{self, LiveToken, StoredToken};
use crate::tables::users::{self, NewUser, User};
use crate::StoreError;

impl Store {
    /// Fails with `Conflict` when the username is taken.
    pub async fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        self.run(move |conn| users::create(conn, user)).await
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
        self.run(move |conn| users::find(conn, &username)).await
    }

    /// Returns the user as now stored, `None` when there is no such user. Every token issued to
    /// the user before is revoked with it, on every webapp of the database (the original kept
    /// them valid until they expired; see docs/compatibility.md).
    pub async fn update_password(
        &self,
        username: &str,
        password_hash: &str,
        must_change_password: bool,
    ) -> Result<Option<User>, StoreError> {
        let (username, password_hash) = (username.to_string(), password_hash.to_string());
        self.run(move |conn| {
            users::update_password(conn, &username, &password_hash, must_change_password)
        })
        .await
    }

    /// Deletes the user and all of its tokens together; returns false when there is no such user.
    pub async fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        let username = username.to_string();
        self.run(move |conn| users::delete_with_tokens(conn, &username))
            .await
    }

    /// Fails with `Conflict` when the id is already stored.
    pub async fn insert_token(&self, token: StoredToken) -> Result<(), StoreError> {
        self.run(move |conn| tokens::insert(conn, token)).await
    }

    pub async fn find_token(&self, id: &str) -> Result<Option<StoredToken>, StoreError> {
        let id = id.to_string();
        self.run(move |conn| tokens::find(conn, &id)).await
    }

    /// The token `id` while it is honoured: stored, and its user still exists with the token stamp
    /// it was issued under. One query, for the bearer check of every call.
    pub async fn find_live_token(&self, id: &str) -> Result<Option<LiveToken>, StoreError> {
        let id = id.to_string();
        self.run(move |conn| tokens::find_live(conn, &id)).await
    }

    /// Returns false when no such token was stored.
    pub async fn delete_token(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.run(move |conn| tokens::delete(conn, &id)).await
    }

    /// Removes every token whose expiry is at or before `now_unix`; returns how many.
    pub async fn delete_expired_tokens(&self, now_unix: i64) -> Result<u64, StoreError> {
        let deleted = self
            .run(move |conn| tokens::delete_expired(conn, now_unix))
            .await?;
        Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
    }

    /// Stores a long-lived token; fails with `Conflict` when its id or hash is already stored.
    pub async fn insert_system_token(&self, token: SystemToken) -> Result<(), StoreError> {
        self.run(move |conn| system_tokens::insert(conn, token))
            .await
    }

    /// The long-lived token whose SHA-256 (lower-case hex) is `token_hash`.
    pub async fn find_system_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<SystemToken>, StoreError> {
        let token_hash = token_hash.to_string();
        self.run(move |conn| system_tokens::find_by_hash(conn, &token_hash))
            .await
    }

    /// Every long-lived token, oldest first.
    pub async fn system_tokens(&self) -> Result<Vec<SystemToken>, StoreError> {
        self.run(system_tokens::list).await
    }

    /// Revokes the long-lived token `id`; returns it, or `None` when there is no such token.
    pub async fn delete_system_token(&self, id: &str) -> Result<Option<SystemToken>, StoreError> {
        let id = id.to_string();
        self.run(move |conn| system_tokens::delete(conn, &id)).await
    }

    /// Returns the stored value of `name`, storing `value_if_absent` first if there is none.
    /// The first writer wins, also across processes, so all of them end up with the same secret.
    pub async fn get_or_insert_secret(
        &self,
        name: &str,
        value_if_absent: String,
    ) -> Result<String, StoreError> {
        let (name, sealer) = (name.to_string(), self.sealer().clone());
        self.run(move |conn| secrets::get_or_insert(conn, &sealer, &name, value_if_absent))
            .await
    }

    pub async fn find_cert(
        &self,
        hostname: &str,
        cert_type: &str,
    ) -> Result<Option<StoredCert>, StoreError> {
        let (hostname, cert_type) = (hostname.to_string(), cert_type.to_string());
        let sealer = self.sealer().clone();
        self.run(move |conn| certs::find(conn, &sealer, &hostname, &cert_type))
            .await
    }

    /// Stores `cert` for (hostname, cert_type), replacing any previous one (an operator upload).
    pub async fn replace_cert(
        &self,
        hostname: &str,
        cert_type: &str,
        cert: StoredCert,
    ) -> Result<(), StoreError> {
        let (hostname, cert_type) = (hostname.to_string(), cert_type.to_string());
        let sealer = self.sealer().clone();
        self.run(move |conn| certs::replace(conn, &sealer, &hostname, &cert_type, cert))
            .await
    }

    /// Returns false when nothing was stored for (hostname, cert_type).
    pub async fn delete_cert(&self, hostname: &str, cert_type: &str) -> Result<bool, StoreError> {
        let (hostname, cert_type) = (hostname.to_string(), cert_type.to_string());
        self.run(move |conn| certs::delete(conn, &hostname, &cert_type))
            .await
    }

    /// Stores `cert` unless one is already stored for (hostname, cert_type) and returns the stored
    /// one: the first writer wins, so webapps generating a certificate at the same time all end up
    /// serving the same one.
    pub async fn insert_cert_if_absent(
        &self,
        hostname: &str,
        cert_type: &str,
        cert: StoredCert,
    ) -> Result<StoredCert, StoreError> {
        let (hostname, cert_type) = (hostname.to_string(), cert_type.to_string());
        let sealer = self.sealer().clone();
        self.run(move |conn| certs::insert_if_absent(conn, &sealer, &hostname, &cert_type, cert))
            .await
    }
}
