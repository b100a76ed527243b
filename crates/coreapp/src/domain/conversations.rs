//! Conversation-based pricing info for status webhooks: a 24-hour conversation per recipient,
//! `user_initiated` when the customer wrote within the last 24 hours, else `business_initiated`.

use crate::network::lock;
use crate::CoreState;
use std::collections::HashMap;
use std::sync::Mutex;
use wa_api::webhooks::ConversationInfo;
use wa_store::{Conversation, StoreError};

const DAY_SECS: i64 = 24 * 3600;

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
    fn get(&self, recipient: &str, now: i64) -> Option<Conversation> {
        lock(&self.open)
            .get(recipient)
            .filter(|conversation| conversation.expires_at > now)
            .cloned()
    }

    fn remember(&self, recipient: &str, conversation: Conversation, now: i64) {
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

/// The open conversation with `recipient` at `now` (unix seconds), opening one when none is.
pub async fn current(
    state: &CoreState,
    recipient: &str,
    now: i64,
) -> Result<ConversationInfo, StoreError> {
    if let Some(conversation) = state.conversations.get(recipient, now) {
        return Ok(ConversationInfo {
            id: conversation.id,
            origin: conversation.origin,
            expiration_timestamp: None,
        });
    }
    let last_inbound = state.store.last_inbound_ms(recipient).await?;
    let user_initiated = last_inbound.is_some_and(|ms| now * 1000 - ms < DAY_SECS * 1000);
    let candidate = Conversation {
        id: random_hex_32(),
        origin: if user_initiated {
            "user_initiated"
        } else {
            "business_initiated"
        }
        .to_string(),
        expires_at: now + DAY_SECS,
    };
    let (conversation, opened) = state
        .store
        .open_conversation(recipient, now, candidate)
        .await?;
    state
        .conversations
        .remember(recipient, conversation.clone(), now);
    Ok(ConversationInfo {
        id: conversation.id,
        origin: conversation.origin,
        expiration_timestamp: opened.then_some(conversation.expires_at),
    })
}

pub(crate) fn random_hex_32() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
