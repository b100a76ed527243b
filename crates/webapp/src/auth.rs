//! Authentication (spec onprem-rest §5): Basic credentials at login, bearer tokens everywhere,
//! and the monitoring API key on health, stats and metrics only.
//!
//! A bearer token is an HS256 JWT with the original's claims (`user`, `iat`, `exp`, `wa:rand`).
//! It is valid when the signature verifies, it has not expired, *and* its `wa:rand` is still in
//! the `tokens` table under its user's current token stamp, so logout, user deletion and password
//! changes revoke it on every webapp sharing the database: at once on the webapp that revoked it,
//! within `token_cache::TOKEN_RECHECK` on the others.
//!
//! A long-lived ("system user") token, which an administrator creates for an integration
//! (`routes/cloud/system_tokens.rs`), is [`LONG_LIVED_PREFIX`] and 32 random bytes in base64url.
//! The prefix routes it past JWT decoding; only its SHA-256 is stored, and it is valid while that
//! row exists, with the role it was created with. Revocation reaches other webapps within the same
//! `TOKEN_RECHECK`.

use crate::state::{AppState, SharedState};
use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use base64::Engine;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use wa_api::users::{Role, ROLE_ADMIN};
use wa_api::ApiError;
use wa_store::{StoredToken, SystemToken, User};

/// How every long-lived token begins. A JWT begins with `eyJ` (base64 of `{"`), so the two kinds
/// never look alike, and a secret scanner can recognise ours.
pub const LONG_LIVED_PREFIX: &str = "walt_";

/// The user name a long-lived token acts as: `:` is not allowed in user names, so it can never
/// be mistaken for an account (e.g. to read or change that account as its owner).
pub fn long_lived_username(id: &str) -> String {
    format!("token:{id}")
}

/// A freshly created long-lived token: the stored row and the one copy of the secret.
pub struct NewLongLivedToken {
    pub stored: SystemToken,
    pub token: String,
}

/// Creates a long-lived token (nothing stored yet): 32 random bytes, and a 16-byte public id.
pub fn new_long_lived_token(name: String, role: Role, now: i64) -> NewLongLivedToken {
    let secret: [u8; 32] = rand::random();
    let token = format!(
        "{LONG_LIVED_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    NewLongLivedToken {
        stored: SystemToken {
            id: random_hex_32(),
            name,
            role,
            token_hash: token_hash(&token),
            created_at: now,
        },
        token,
    }
}

/// Lower-case hex SHA-256 of a presented token: what the `system_tokens` table keys on. The
/// token has 256 random bits, so a plain hash (no salt, no stretching) cannot be searched back.
pub fn token_hash(token: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Claim names of the original's tokens.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    user: String,
    iat: i64,
    exp: i64,
    #[serde(rename = "wa:rand")]
    rand: String,
}

/// A freshly issued token.
pub struct IssuedToken {
    pub token: String,
    pub expires_at: i64,
}

/// Creates, stores and returns a token for `user`, bound to the token stamp of the `user` row
/// whose password was checked: if the password changed since, the token is dead on arrival.
pub async fn issue_token(state: &AppState, user: &User) -> Result<IssuedToken, ApiError> {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        user: user.username.clone(),
        iat: now,
        exp: now + state.settings.webapp.token_lifetime_secs,
        rand: random_hex_32(),
    };
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &state.jwt.encoding)
        .map_err(|e| {
            tracing::error!("signing a token failed: {e}");
            ApiError::internal("Unable to create token")
        })?;
    let stored = StoredToken {
        id: claims.rand,
        username: claims.user,
        issued_at: claims.iat,
        expires_at: claims.exp,
        user_stamp: user.token_stamp.clone(),
    };
    state.store.insert_token(stored).await.map_err(|e| {
        tracing::error!("storing a token failed: {e}");
        ApiError::internal("Unable to create token")
    })?;
    Ok(IssuedToken {
        token,
        expires_at: claims.exp,
    })
}

fn random_hex_32() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A signed-in user, from a bearer token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub username: String,
    pub role: String,
    /// The token's id, so logout can revoke exactly this token.
    pub token_id: String,
    pub kind: TokenKind,
}

/// Which kind of bearer token the caller presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Issued by `POST /v1/users/login`, expiring; `token_id` is its `wa:rand`.
    Session,
    /// Created by an administrator, never expiring; `token_id` is the hash of the token.
    LongLived,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == ROLE_ADMIN
    }

    /// 403/1005 unless the caller is the administrator.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

/// Who called a monitoring endpoint: a user, or the holder of `WA_API_KEY`.
#[derive(Debug, Clone)]
pub enum MonitoringCaller {
    User(AuthUser),
    ApiKey,
}

type ExtractFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = ExtractFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = app_state(req);
        let credentials = Credentials::from_request(req);
        Box::pin(async move {
            match credentials? {
                Credentials::Bearer(token) => verify_bearer(&state?, &token).await,
                Credentials::ApiKey(_) => Err(ApiError::unauthorized(
                    "The API key is only accepted by the monitoring endpoints",
                )),
                Credentials::Basic { .. } => Err(ApiError::unauthorized(
                    "Basic credentials are only accepted by /v1/users/login",
                )),
            }
        })
    }
}

impl FromRequest for MonitoringCaller {
    type Error = ApiError;
    type Future = ExtractFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = app_state(req);
        let credentials = Credentials::from_request(req);
        Box::pin(async move {
            let state = state?;
            match credentials? {
                Credentials::Bearer(token) => verify_bearer(&state, &token)
                    .await
                    .map(MonitoringCaller::User),
                Credentials::ApiKey(key) if api_key_matches(&state, &key) => {
                    Ok(MonitoringCaller::ApiKey)
                }
                _ => Err(ApiError::unauthorized("Invalid credentials")),
            }
        })
    }
}

fn app_state(req: &HttpRequest) -> Result<SharedState, ApiError> {
    req.app_data::<web::Data<crate::state::AppState>>()
        .map(|data| data.clone().into_inner())
        .ok_or_else(|| ApiError::internal("application state missing"))
}

fn api_key_matches(state: &SharedState, presented: &str) -> bool {
    let Some(expected) = state.settings.webapp.api_key.as_deref() else {
        return false;
    };
    // Compare every byte so timing does not reveal how much of the key matched.
    expected.len() == presented.len()
        && expected
            .bytes()
            .zip(presented.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The parsed `Authorization` header.
pub enum Credentials {
    Basic { username: String, password: String },
    Bearer(String),
    ApiKey(String),
}

impl Credentials {
    pub fn from_request(req: &HttpRequest) -> Result<Credentials, ApiError> {
        let header = req
            .headers()
            .get(AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("Missing Authorization header"))?
            .to_str()
            .map_err(|_| ApiError::unauthorized("Malformed Authorization header"))?;
        let (scheme, value) = header
            .trim()
            .split_once(' ')
            .ok_or_else(|| ApiError::unauthorized("Malformed Authorization header"))?;
        let value = value.trim();
        match scheme.to_ascii_lowercase().as_str() {
            "bearer" if !value.is_empty() => Ok(Credentials::Bearer(value.to_string())),
            "apikey" if !value.is_empty() => Ok(Credentials::ApiKey(value.to_string())),
            "basic" => decode_basic(value),
            _ => Err(ApiError::unauthorized("Unsupported Authorization scheme")),
        }
    }
}

fn decode_basic(encoded: &str) -> Result<Credentials, ApiError> {
    let malformed = || ApiError::unauthorized("Malformed Basic credentials");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    let (username, password) = text.split_once(':').ok_or_else(malformed)?;
    Ok(Credentials::Basic {
        username: username.to_string(),
        password: password.to_string(),
    })
}

async fn verify_bearer(state: &SharedState, token: &str) -> Result<AuthUser, ApiError> {
    if token.starts_with(LONG_LIVED_PREFIX) {
        return verify_long_lived(state, token).await;
    }
    let invalid = || ApiError::unauthorized("Invalid or expired token");
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp"]);
    let claims = jsonwebtoken::decode::<Claims>(token, &state.jwt.decoding, &validation)
        .map_err(|_| invalid())?
        .claims;
    let now = chrono::Utc::now().timestamp();
    if let Some(role) = state.tokens.role(&claims.rand, &claims.user, now) {
        return Ok(AuthUser {
            username: claims.user,
            role,
            token_id: claims.rand,
            kind: TokenKind::Session,
        });
    }
    // One query: the token row joined with its user under the stamp it was issued with.
    let live = state
        .store
        .find_live_token(&claims.rand)
        .await
        .map_err(store_failure)?
        .ok_or_else(invalid)?;
    let stored = live.token;
    if stored.username != claims.user {
        return Err(invalid());
    }
    if stored.expires_at <= now {
        // Expired tokens are removed when seen, as the original did.
        let _ = state.store.delete_token(&stored.id).await;
        return Err(invalid());
    }
    let user = AuthUser {
        username: stored.username,
        role: live.role,
        token_id: stored.id,
        kind: TokenKind::Session,
    };
    state.tokens.remember(
        &user.token_id,
        &user.username,
        &user.role,
        stored.expires_at,
    );
    Ok(user)
}

/// A long-lived token: found by its hash, in the cache (keyed by the hash, which no `wa:rand`
/// can equal: 64 hex digits against 32) or in the database.
async fn verify_long_lived(state: &SharedState, token: &str) -> Result<AuthUser, ApiError> {
    let hash = token_hash(token);
    // Never expires; the cache still drops it after TOKEN_RECHECK, which bounds revocation.
    let never = i64::MAX;
    let now = chrono::Utc::now().timestamp();
    let cached = state.tokens.entry(&hash, now);
    let (username, role) = match cached {
        Some(found) => found,
        None => {
            let stored = state
                .store
                .find_system_token(&hash)
                .await
                .map_err(store_failure)?
                .ok_or_else(|| ApiError::unauthorized("Invalid or revoked token"))?;
            let username = long_lived_username(&stored.id);
            let role = stored.role.as_str().to_string();
            state.tokens.remember(&hash, &username, &role, never);
            (username, role)
        }
    };
    Ok(AuthUser {
        username,
        role,
        token_id: hash,
        kind: TokenKind::LongLived,
    })
}

/// A database failure while serving a request: logged in full, answered with 1014.
pub fn store_failure(err: wa_store::StoreError) -> ApiError {
    tracing::error!("database error: {err}");
    ApiError::internal("Database operation failed")
}

/// `expires_after` as the original printed it: `2021-07-25 08:50:48+00:00`.
pub fn format_expiry(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S+00:00").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_format_matches_the_original() {
        assert_eq!(format_expiry(1_627_203_048), "2021-07-25 08:50:48+00:00");
    }

    #[test]
    fn long_lived_tokens_are_prefixed_random_and_stored_by_hash() {
        let first = new_long_lived_token("crm".into(), Role::User, 5);
        let second = new_long_lived_token("crm".into(), Role::User, 5);
        assert!(first.token.starts_with(LONG_LIVED_PREFIX));
        // 32 bytes in unpadded base64url.
        assert_eq!(first.token.len(), LONG_LIVED_PREFIX.len() + 43);
        assert_ne!(first.token, second.token);
        assert_ne!(first.stored.id, second.stored.id);
        assert_eq!(first.stored.token_hash, token_hash(&first.token));
        assert_eq!(first.stored.token_hash.len(), 64);
        assert!(!first.stored.token_hash.contains(&first.token));
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn random_ids_are_32_hex() {
        let id = random_hex_32();
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(id, random_hex_32());
    }
}
