//! Messages in both directions, and the transitions that must be atomic with their webhook: an
//! inbound message and its callback (`inbound`), a status change and its callback (`status`).

mod inbound;
mod queries;
mod status;
mod types;

pub(crate) use inbound::insert_inbound;
pub(crate) use queries::{
    counts, delete_old, expired_outbound, fill_shard_keys, find, insert_outbound, last_inbound_ms,
    pending_count, pending_outbound, receipt_count, type_counts,
};
pub(crate) use status::record_status;
pub use types::{InboundMessage, OutboundMessage, ShardSlice, StatusOutcome, StoredMessage};
