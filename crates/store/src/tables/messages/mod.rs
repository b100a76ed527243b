//! Messages in both directions, and the transitions that must be atomic with their webhook: an
//! inbound message and its callback (`inbound`), a status change and its callback (`status`).

mod inbound;
mod queries;
mod status;

use diesel::prelude::*;

use crate::schema::messages;

pub(crate) use inbound::insert_inbound;
pub(crate) use queries::{
    counts, delete_old, expired_outbound, find, insert_outbound, last_inbound_ms, pending_count,
    pending_outbound, receipt_count, type_counts,
};
pub(crate) use status::record_status;

pub(crate) const OUTBOUND: &str = "out";
pub(crate) const INBOUND: &str = "in";

/// Status of an outbound message before the network has accepted it.
pub const PENDING: &str = "pending";
/// Status of an inbound message once stored.
pub const RECEIVED: &str = "received";

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
pub(crate) const STATUS_ORDER: [&str; 5] = [PENDING, "sent", "delivered", "read", "failed"];

/// Order of outbound statuses; receipts can arrive out of order and must not move a message back.
/// The position in [`STATUS_ORDER`], which also spells the rank in SQL (`status`); an unknown
/// status ranks as `pending`.
fn rank(status: &str) -> i32 {
    STATUS_ORDER
        .iter()
        .position(|known| *known == status)
        .and_then(|position| i32::try_from(position).ok())
        .unwrap_or(0)
}
