//! Conversation-based pricing info for status webhooks: a 24-hour conversation per recipient,
//! `user_initiated` when the customer wrote within the last 24 hours, else `business_initiated`.

use crate::state::caches::OpenConversation;
use crate::state::CoreState;
use wa_api::webhooks::ConversationInfo;
use wa_store::{Conversation, StoreError};

const DAY_SECS: i64 = 24 * 3600;

/// The open conversation with `recipient` at `now` (unix seconds), opening one when none is.
/// `expiration_timestamp` is set on the `sent` status that announces the opening (see
/// `OpenConversation`), on no other.
pub async fn current(
    state: &CoreState,
    recipient: &str,
    now: i64,
    status: &str,
) -> Result<ConversationInfo, StoreError> {
    let open = match state.conversations.get(recipient, now) {
        Some(open) => open,
        None => open_or_find(state, recipient, now).await?,
    };
    let announce = status == "sent" && state.conversations.take_opening(recipient);
    Ok(ConversationInfo {
        id: open.conversation.id,
        origin: open.conversation.origin,
        expiration_timestamp: announce.then_some(open.conversation.expires_at),
    })
}

/// Reads the open conversation from the database, opening one when none is, and caches it.
async fn open_or_find(
    state: &CoreState,
    recipient: &str,
    now: i64,
) -> Result<OpenConversation, StoreError> {
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
    let open = OpenConversation {
        conversation,
        opening_unannounced: opened,
    };
    state.conversations.remember(recipient, open.clone(), now);
    Ok(open)
}

pub(crate) fn random_hex_32() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
