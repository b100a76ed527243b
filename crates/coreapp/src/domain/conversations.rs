//! Conversation-based pricing info for status webhooks: a 24-hour conversation per recipient,
//! `user_initiated` when the customer wrote within the last 24 hours, else `business_initiated`.

use crate::state::CoreState;
use wa_api::webhooks::ConversationInfo;
use wa_store::{Conversation, StoreError};

const DAY_SECS: i64 = 24 * 3600;

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
