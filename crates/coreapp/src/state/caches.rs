//! The in-memory caches the coreapp state holds: what the network last said (templates, sticker
//! packs, recipients' capabilities), open conversations and the registered number. Plain data
//! with their freshness rules; the lookups that fill them are in `domain`.

use crate::util::lock;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};
use wa_netproto::templates::{Template, PENDING};
use wa_store::Conversation;

/// Shortest interval between two refreshes caused by misses.
const MISS_REFRESH_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct TemplateCache {
    inner: RwLock<Cached>,
}

#[derive(Default)]
struct Cached {
    templates: Vec<Template>,
    loaded_at: Option<Instant>,
    last_miss_refresh: Option<Instant>,
    /// (name, language) of the templates this coreapp submitted whose review it has not yet
    /// seen end: while any is `PENDING`, listing fetches again (as often as a miss may), so a
    /// client polling for the approval sees it without waiting `template_refresh_secs`.
    submitted: Vec<(String, String)>,
}

impl TemplateCache {
    /// Replaces the known templates with what the network served; malformed entries are skipped.
    pub fn replace(&self, served: Vec<Value>) -> usize {
        let templates: Vec<Template> = served
            .into_iter()
            .filter_map(|t| serde_json::from_value(t).ok())
            .collect();
        let count = templates.len();
        let mut cached = self.inner.write().unwrap_or_else(|e| e.into_inner());
        cached.templates = templates;
        cached.loaded_at = Some(Instant::now());
        count
    }

    pub fn snapshot(&self) -> Vec<Template> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .templates
            .clone()
    }

    pub(crate) fn is_stale(&self, max_age: Duration) -> bool {
        let cached = self.inner.read().unwrap_or_else(|e| e.into_inner());
        cached.loaded_at.is_none_or(|at| at.elapsed() >= max_age)
    }

    /// Notes a template this coreapp submitted for review.
    pub fn note_submitted(&self, name: &str, language: &str) {
        let mut cached = self.inner.write().unwrap_or_else(|e| e.into_inner());
        cached
            .submitted
            .push((name.to_string(), language.to_string()));
    }

    /// Whether a template this coreapp submitted is still `PENDING` in the cache; submissions
    /// decided or deleted since are forgotten.
    pub(crate) fn under_review(&self) -> bool {
        let mut cached = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let Cached {
            templates,
            submitted,
            ..
        } = &mut *cached;
        submitted.retain(|(name, language)| {
            templates
                .iter()
                .any(|t| &t.name == name && &t.language == language && t.status == PENDING)
        });
        !submitted.is_empty()
    }

    /// True (and noted) when a miss may trigger a refresh now.
    pub(crate) fn may_refresh_on_miss(&self) -> bool {
        let mut cached = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let allowed = cached
            .last_miss_refresh
            .is_none_or(|at| at.elapsed() >= MISS_REFRESH_INTERVAL);
        if allowed {
            cached.last_miss_refresh = Some(Instant::now());
        }
        allowed
    }
}

#[derive(Default)]
pub struct FirstPartyPacks {
    inner: RwLock<Option<Loaded>>,
}

struct Loaded {
    packs: Vec<Value>,
    at: Instant,
}

impl FirstPartyPacks {
    /// Replaces the cached packs with what the network served.
    pub fn replace(&self, packs: Vec<Value>) -> usize {
        let count = packs.len();
        let mut cached = self.inner.write().unwrap_or_else(|e| e.into_inner());
        *cached = Some(Loaded {
            packs,
            at: Instant::now(),
        });
        count
    }

    /// The cached packs, `None` before the first load.
    pub fn snapshot(&self) -> Option<Vec<Value>> {
        let cached = self.inner.read().unwrap_or_else(|e| e.into_inner());
        cached.as_ref().map(|loaded| loaded.packs.clone())
    }

    pub(crate) fn is_stale(&self, max_age: Duration) -> bool {
        let cached = self.inner.read().unwrap_or_else(|e| e.into_inner());
        cached
            .as_ref()
            .is_none_or(|loaded| loaded.at.elapsed() >= max_age)
    }
}

/// Asks the network for its packs over `client` (also used during initialization, before the
const CACHE_TTL: Duration = Duration::from_secs(300);
/// Bound on cached recipients, so bulk sends to many numbers cannot grow memory without end.
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
pub struct CapabilityCache {
    /// wa_id → (whether the app shows template buttons, when the network said so).
    template_buttons: Mutex<HashMap<String, (bool, Instant)>>,
}

impl CapabilityCache {
    pub(crate) fn get(&self, wa_id: &str) -> Option<bool> {
        let cached = self
            .template_buttons
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        cached
            .get(wa_id)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(shows, _)| *shows)
    }

    /// Answers held, fresh or not yet swept.
    pub fn len(&self) -> usize {
        lock(&self.template_buttons).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn put(&self, wa_id: &str, shows: bool) {
        let mut cached = self
            .template_buttons
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if cached.len() >= MAX_ENTRIES {
            cached.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
        }
        if cached.len() >= MAX_ENTRIES {
            cached.clear();
        }
        cached.insert(wa_id.to_string(), (shows, Instant::now()));
    }
}

/// Recipients whose open conversation is remembered; beyond this, expired entries are dropped,
/// then everything (the database still knows; the cost is one lookup per recipient again).
const CACHE_CAPACITY: usize = 50_000;

/// Open conversations this process has seen, so the statuses of a message (sent, delivered,
/// read) after the first cost no database round trips. Safe with several coreapps: a
/// conversation never changes while open, and an expired entry is never used.
#[derive(Default)]
pub struct ConversationCache {
    open: Mutex<HashMap<String, Conversation>>,
}

impl ConversationCache {
    /// Conversations held, open or not yet swept.
    pub fn len(&self) -> usize {
        lock(&self.open).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn get(&self, recipient: &str, now: i64) -> Option<Conversation> {
        lock(&self.open)
            .get(recipient)
            .filter(|conversation| conversation.expires_at > now)
            .cloned()
    }

    pub(crate) fn remember(&self, recipient: &str, conversation: Conversation, now: i64) {
        let mut open = lock(&self.open);
        if open.len() >= CACHE_CAPACITY {
            open.retain(|_, conversation| conversation.expires_at > now);
            if open.len() >= CACHE_CAPACITY {
                open.clear();
            }
        }
        open.insert(recipient.to_string(), conversation);
    }
}

/// How long a read of the registered number is reused. A registration made through this coreapp
/// clears it at once; one made through another coreapp on the same database is seen after this.
pub(crate) const REGISTERED_NUMBER_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// The registered number as last read, and when. Every send needs it, and reading it from the
/// database per message was one of the few queries left on the API's path.
#[derive(Default)]
pub struct RegisteredNumberCache(
    pub(crate) std::sync::Mutex<Option<(std::time::Instant, Option<String>)>>,
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn malformed_templates_are_skipped() {
        let cache = TemplateCache::default();
        let served = vec![
            json!({"namespace": "ns", "name": "a", "language": "en", "status": "APPROVED"}),
            json!({"name": "no namespace"}),
        ];
        assert_eq!(cache.replace(served), 1);
        assert!(!cache.is_stale(Duration::from_secs(60)));
        assert!(cache.may_refresh_on_miss());
        assert!(!cache.may_refresh_on_miss());
    }
}
