//! Bearer tokens this webapp checked against the database a moment ago.
//!
//! Every API call presents a token, and checking it is one database read: under load that read
//! was one of the few statements per message the database runs (docs/performance.md). A token
//! found live is remembered for [`TOKEN_RECHECK`]; within that time its calls skip the read.
//!
//! What that costs: a revocation made through *another* webapp on the same database (logout,
//! password change, user deletion) takes effect here at most [`TOKEN_RECHECK`] later. A
//! revocation made through this webapp forgets the entries it concerns at once. The token's own
//! expiry is still checked on every call.

use crate::auth::AuthUser;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How long a token checked live is trusted without reading the database again.
pub const TOKEN_RECHECK: Duration = Duration::from_secs(1);

/// Most tokens remembered; past it the cache starts over (a new token costs one read).
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    user: AuthUser,
    expires_at: i64,
    checked: Instant,
}

/// Tokens found live, by token id (`wa:rand`).
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl TokenCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A map of plain values: a panic elsewhere cannot leave it half-changed.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The user of token `id`, if it was found live less than [`TOKEN_RECHECK`] ago, belongs to
    /// `username` and has not expired at `now` (Unix seconds).
    pub fn get(&self, id: &str, username: &str, now: i64) -> Option<AuthUser> {
        let entries = self.lock();
        let entry = entries.get(id)?;
        let fresh = entry.checked.elapsed() < TOKEN_RECHECK;
        (fresh && entry.expires_at > now && entry.user.username == username)
            .then(|| entry.user.clone())
    }

    /// Remembers that token `user.token_id`, valid until `expires_at`, was just found live.
    pub fn remember(&self, user: &AuthUser, expires_at: i64) {
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            user.token_id.clone(),
            Entry {
                user: user.clone(),
                expires_at,
                checked: Instant::now(),
            },
        );
    }

    /// Forgets one token (it was revoked through this webapp).
    pub fn forget(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Forgets every token of `username` (its password changed or it was deleted).
    pub fn forget_user(&self, username: &str) {
        self.lock()
            .retain(|_, entry| entry.user.username != username);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, id: &str) -> AuthUser {
        AuthUser {
            username: name.into(),
            role: "ROLE_USER".into(),
            token_id: id.into(),
        }
    }

    #[test]
    fn a_remembered_token_is_served_until_forgotten() {
        let cache = TokenCache::default();
        assert!(cache.get("t1", "ops", 100).is_none());
        cache.remember(&user("ops", "t1"), 200);
        assert_eq!(cache.get("t1", "ops", 100).unwrap().token_id, "t1");
        // Another user's name, or an expired token, is never served from the cache.
        assert!(cache.get("t1", "admin", 100).is_none());
        assert!(cache.get("t1", "ops", 200).is_none());
        cache.forget("t1");
        assert!(cache.get("t1", "ops", 100).is_none());
    }

    #[test]
    fn forgetting_a_user_forgets_all_its_tokens_only() {
        let cache = TokenCache::default();
        cache.remember(&user("ops", "t1"), 200);
        cache.remember(&user("ops", "t2"), 200);
        cache.remember(&user("bob", "t3"), 200);
        cache.forget_user("ops");
        assert!(cache.get("t1", "ops", 100).is_none());
        assert!(cache.get("t2", "ops", 100).is_none());
        assert!(cache.get("t3", "bob", 100).is_some());
    }
}
