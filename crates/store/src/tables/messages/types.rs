//! The message types and the order of outbound statuses.

use diesel::prelude::*;

use crate::schema::messages;

pub(super) const OUTBOUND: &str = "out";
pub(super) const INBOUND: &str = "in";

/// Status of an outbound message before the network has accepted it.
pub(super) const PENDING: &str = "pending";
/// Status of an inbound message once stored.
pub(super) const RECEIVED: &str = "received";

/// A message the business sends; `payload` is the API's message object as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = messages)]
pub struct OutboundMessage {
    pub id: String,
    #[diesel(column_name = peer)]
    pub to: String,
    pub msg_type: String,
    pub payload: String,
    pub created_ms: i64,
}

/// The outbound messages of one Multiconnect shard: those whose recipient's shard key
/// (`wa_api::cluster::shard_key`) is `index` modulo `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSlice {
    pub index: u32,
    pub count: u32,
}

/// A message a consumer sent; `payload` is the message object as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    pub id: String,
    pub from: String,
    pub msg_type: String,
    pub payload: String,
    pub received_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: String,
    pub outbound: bool,
    pub peer: String,
    pub msg_type: String,
    pub status: String,
    pub created_ms: i64,
    /// When the status last changed (the creation time until then).
    pub updated_ms: i64,
    /// Why a `failed` message failed: the JSON array of error objects its webhook carried.
    pub errors: Option<String>,
}

/// What recording a status did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusOutcome {
    /// The message moved to the new status.
    Advanced,
    /// The message already had this or a later status; nothing was written.
    NotNewer,
    /// No such outbound message.
    UnknownMessage,
    /// A receipt for a message not recorded as `sent` yet (see `Store::record_receipt`);
    /// nothing was written.
    NotSentYet,
}

/// Every outbound status, earliest first.
pub(super) const STATUS_ORDER: [&str; 5] = [PENDING, "sent", "delivered", "read", "failed"];

/// Order of outbound statuses; receipts can arrive out of order and must not move a message back.
/// The position in [`STATUS_ORDER`], which also spells the rank in SQL (`status.rs`); an unknown
/// status ranks as `pending`.
pub(super) fn rank(status: &str) -> i32 {
    STATUS_ORDER
        .iter()
        .position(|known| *known == status)
        .and_then(|position| i32::try_from(position).ok())
        .unwrap_or(0)
}
