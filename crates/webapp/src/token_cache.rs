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

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How long a token checked live is trusted without reading the database again.
pub const TOKEN_RECHECK: Duration = Duration::from_secs(1);

/// Most tokens remembered; past it the cache starts over (a new token costs one read).
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    username: String,
    role: String,
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

    /// The role of token `id`'s user, if the token was found live less than [`TOKEN_RECHECK`]
    /// ago, belongs to `username` and has not expired at `now` (Unix seconds).
    pub fn role(&self, id: &str, username: &str, now: i64) -> Option<String> {
        let entries = self.lock();
        let entry = entries.get(id)?;
        let fresh = entry.checked.elapsed() < TOKEN_RECHECK;
        (fresh && entry.expires_at > now && entry.username == username).then(|| entry.role.clone())
    }

    /// The user name and role of a token found live less than [`TOKEN_RECHECK`] ago and not
    /// expired at `now`, whoever it belongs to: for long-lived tokens, whose owner is known only
    /// once the token is found.
    pub fn entry(&self, id: &str, now: i64) -> Option<(String, String)> {
        let entries = self.lock();
        let entry = entries.get(id)?;
        let fresh = entry.checked.elapsed() < TOKEN_RECHECK;
        (fresh && entry.expires_at > now).then(|| (entry.username.clone(), entry.role.clone()))
    }

    /// Remembers that token `id` of `username` (with `role`), valid until `expires_at`, was just
    /// found live.
    pub fn remember(&self, id: &str, username: &str, role: &str, expires_at: i64) {
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            id.to_string(),
            Entry {
                username: username.to_string(),
                role: role.to_string(),
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
        self.lock().retain(|_, entry| entry.username != username);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_token_is_served_until_forgotten() {
        let cache = TokenCache::default();
        assert!(cache.role("t1", "ops", 100).is_none());
        cache.remember("t1", "ops", "ROLE_USER", 200);
        assert_eq!(cache.role("t1", "ops", 100).as_deref(), Some("ROLE_USER"));
        // Another user's name, or an expired token, is never served from the cache.
        assert!(cache.role("t1", "admin", 100).is_none());
        assert!(cache.role("t1", "ops", 200).is_none());
        cache.forget("t1");
        assert!(cache.role("t1", "ops", 100).is_none());
    }

    #[test]
    fn an_entry_is_served_whoever_owns_it_until_forgotten() {
        let cache = TokenCache::default();
        assert!(cache.entry("h1", 100).is_none());
        cache.remember("h1", "token:t1", "ROLE_ADMIN", i64::MAX);
        assert_eq!(
            cache.entry("h1", 100),
            Some(("token:t1".to_string(), "ROLE_ADMIN".to_string()))
        );
        cache.forget("h1");
        assert!(cache.entry("h1", 100).is_none());
    }

    #[test]
    fn forgetting_a_user_forgets_all_its_tokens_only() {
        let cache = TokenCache::default();
        cache.remember("t1", "ops", "ROLE_USER", 200);
        cache.remember("t2", "ops", "ROLE_USER", 200);
        cache.remember("t3", "bob", "ROLE_USER", 200);
        cache.forget_user("ops");
        assert!(cache.role("t1", "ops", 100).is_none());
        assert!(cache.role("t2", "ops", 100).is_none());
        assert!(cache.role("t3", "bob", 100).is_some());
    }
}
