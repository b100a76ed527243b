//! Conversation-based pricing info for status webhooks: a 24-hour conversation per recipient,
//! `user_initiated` when the customer wrote within the last 24 hours, else `business_initiated`.

use crate::state::CoreState;
use wa_api::status::MessageStatus;
use wa_api::webhooks::ConversationInfo;
use wa_store::{Conversation, StoreError};

const DAY_SECS: i64 = 24 * 3600;

/// The open conversation with `recipient` for a status at `now` (unix seconds), opening one
/// when none is.
///
/// `expiration_timestamp` goes on the `sent` status of the message that opened the conversation,
/// on no other: a conversation opened at or after this `sent`'s time was opened for this message
/// (by this status, or by a receipt of it that overtook the `sent`). Decided from the stored
/// opening time, so it holds whichever status gets here first, and after a restart.
pub async fn current(
    state: &CoreState,
    recipient: &str,
    now: i64,
    status: MessageStatus,
) -> Result<ConversationInfo, StoreError> {
    let conversation = match state.conversations.get(recipient, now) {
        Some(conversation) => conversation,
        None => open_or_find(state, recipient, now).await?,
    };
    let opened_at = conversation.expires_at - DAY_SECS;
    let announce = status == MessageStatus::Sent && opened_at >= now;
    Ok(ConversationInfo {
        id: conversation.id,
        origin: conversation.origin,
        expiration_timestamp: announce.then_some(conversation.expires_at),
    })
}

/// The open conversation from the database, opening one when none is; cached.
async fn open_or_find(
    state: &CoreState,
    recipient: &str,
    now: i64,
) -> Result<Conversation, StoreError> {
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
    let (conversation, _opened) = state
        .store
        .open_conversation(recipient, now, candidate)
        .await?;
    state
        .conversations
        .remember(recipient, conversation.clone(), now);
    Ok(conversation)
}

pub(crate) fn random_hex_32() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
