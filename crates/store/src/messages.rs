//! Messages in both directions, and the transitions that must be atomic with their webhook:
//! an inbound message and its callback, a status change and its callback.

use diesel::prelude::*;

use crate::callbacks::{insert_callback, now_ms, NewCallback};
use crate::connection::DbConnection;
use crate::group_commit::{Write, Written};
use crate::schema::messages;
use crate::{Store, StoreError};

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

/// The stored columns [`StoredMessage`] is made of.
#[derive(Queryable, Selectable)]
#[diesel(table_name = messages)]
struct MessageRow {
    id: String,
    direction: String,
    peer: String,
    msg_type: String,
    status: String,
    created_ms: i64,
    updated_ms: i64,
}

impl MessageRow {
    fn into_stored(self) -> StoredMessage {
        StoredMessage {
            id: self.id,
            outbound: self.direction == OUTBOUND,
            peer: self.peer,
            msg_type: self.msg_type,
            status: self.status,
            created_ms: self.created_ms,
            updated_ms: self.updated_ms,
        }
    }
}

/// How many messages have one direction and status.
#[derive(Queryable, Selectable)]
#[diesel(table_name = messages)]
struct MessageCount {
    direction: String,
    status: String,
    #[diesel(select_expression = diesel::dsl::count_star())]
    #[diesel(select_expression_type = diesel::dsl::CountStar)]
    count: i64,
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
    /// A receipt for a message not recorded as `sent` yet (see [`Store::record_receipt`]);
    /// nothing was written.
    NotSentYet,
}

/// Every outbound status, earliest first.
pub(crate) const STATUS_ORDER: [&str; 5] = [PENDING, "sent", "delivered", "read", "failed"];

/// Order of outbound statuses; receipts can arrive out of order and must not move a message back.
/// The position in [`STATUS_ORDER`], which also spells the rank in SQL
/// (`dialect::advance_status`); an unknown status ranks as `pending`.
fn rank(status: &str) -> i32 {
    STATUS_ORDER
        .iter()
        .position(|known| *known == status)
        .and_then(|position| i32::try_from(position).ok())
        .unwrap_or(0)
}

impl Store {
    /// Stores a message to send; the API answers 201 only after this returns.
    pub async fn insert_outbound(&self, msg: OutboundMessage) -> Result<(), StoreError> {
        self.insert_outbound_expiring(msg, None).await
    }

    /// [`Store::insert_outbound`] for a message that gives up at `expires_ms` if it has not
    /// reached the network by then (see [`Store::expired_outbound`]).
    pub async fn insert_outbound_expiring(
        &self,
        msg: OutboundMessage,
        expires_ms: Option<i64>,
    ) -> Result<(), StoreError> {
        self.write(Write::InsertOutbound(msg, expires_ms))
            .await
            .map(|_| ())
    }

    /// Outbound messages the network has not accepted yet, oldest first, minus `exclude`.
    pub async fn pending_outbound(
        &self,
        limit: i64,
        exclude: Vec<String>,
    ) -> Result<Vec<OutboundMessage>, StoreError> {
        self.run(move |conn| {
            let rows = messages::table
                .filter(messages::status.eq(PENDING))
                .filter(messages::direction.eq(OUTBOUND))
                .filter(messages::id.ne_all(exclude))
                .order((messages::created_ms.asc(), messages::id.asc()))
                .limit(limit)
                .select(OutboundMessage::as_select())
                .load(conn)?;
            Ok(rows)
        })
        .await
    }

    /// Pending outbound messages whose expiry is at or before `now_ms`, minus `exclude` (those
    /// being handed to the network right now), oldest first.
    pub async fn expired_outbound(
        &self,
        now_ms: i64,
        limit: i64,
        exclude: Vec<String>,
    ) -> Result<Vec<OutboundMessage>, StoreError> {
        self.run(move |conn| {
            let rows = messages::table
                .filter(messages::status.eq(PENDING))
                .filter(messages::direction.eq(OUTBOUND))
                .filter(messages::expires_ms.le(now_ms))
                .filter(messages::id.ne_all(exclude))
                .order((messages::created_ms.asc(), messages::id.asc()))
                .limit(limit)
                .select(OutboundMessage::as_select())
                .load(conn)?;
            Ok(rows)
        })
        .await
    }

    /// Moves an outbound message to `status` and queues its webhook, in one transaction. Statuses
    /// never move backwards: a `delivered` arriving after `read` changes nothing and queues no
    /// webhook (the spec allows skipped statuses, not reordered ones going back).
    pub async fn record_status(
        &self,
        message_id: &str,
        status: &str,
        callback: Option<NewCallback>,
    ) -> Result<StatusOutcome, StoreError> {
        self.write_status(message_id, status, callback, false).await
    }

    /// [`Store::record_status`] for a phone's receipt (`delivered`, `read`, `failed`): answers
    /// [`StatusOutcome::NotSentYet`] without writing when the message is still `pending`, i.e.
    /// the coreapp stopped before it recorded the network's acceptance. The caller then records
    /// `sent` first, so its webhook is not lost; in the usual case one write is enough.
    pub async fn record_receipt(
        &self,
        message_id: &str,
        status: &str,
        callback: Option<NewCallback>,
    ) -> Result<StatusOutcome, StoreError> {
        self.write_status(message_id, status, callback, true).await
    }

    async fn write_status(
        &self,
        message_id: &str,
        status: &str,
        callback: Option<NewCallback>,
        after_sent_only: bool,
    ) -> Result<StatusOutcome, StoreError> {
        let write = Write::RecordStatus {
            message_id: message_id.to_string(),
            status: status.to_string(),
            callback,
            after_sent_only,
        };
        match self.write(write).await? {
            Written::Status(outcome) => Ok(outcome),
            other => Err(unexpected(other)),
        }
    }

    /// Stores an inbound message together with its webhook; false (and nothing written) when the
    /// message was stored before, e.g. the network re-sent it after a crash.
    pub async fn insert_inbound(
        &self,
        msg: InboundMessage,
        callback: NewCallback,
    ) -> Result<bool, StoreError> {
        match self.write(Write::InsertInbound(msg, callback)).await? {
            Written::Inserted(new) => Ok(new),
            other => Err(unexpected(other)),
        }
    }

    /// [`Store::insert_inbound`] for several messages, committed in the order given (so their
    /// webhooks keep it), sharing commits; one flag per message.
    pub async fn insert_inbound_batch(
        &self,
        messages: Vec<(InboundMessage, NewCallback)>,
    ) -> Result<Vec<bool>, StoreError> {
        let writes = messages
            .into_iter()
            .map(|(msg, callback)| Write::InsertInbound(msg, callback))
            .collect();
        self.write_all(writes)
            .await
            .into_iter()
            .map(|written| match written? {
                Written::Inserted(new) => Ok(new),
                other => Err(unexpected(other)),
            })
            .collect()
    }

    pub async fn find_message(&self, id: &str) -> Result<Option<StoredMessage>, StoreError> {
        let id = id.to_string();
        self.run(move |conn| {
            let row = messages::table
                .find(&id)
                .select(MessageRow::as_select())
                .first(conn)
                .optional()?;
            Ok(row.map(MessageRow::into_stored))
        })
        .await
    }

    /// When `peer` last wrote to the business (milliseconds), if ever.
    pub async fn last_inbound_ms(&self, peer: &str) -> Result<Option<i64>, StoreError> {
        let peer = peer.to_string();
        self.run(move |conn| {
            Ok(messages::table
                .filter(messages::direction.eq(INBOUND))
                .filter(messages::peer.eq(peer))
                .select(diesel::dsl::max(messages::created_ms))
                .first::<Option<i64>>(conn)?)
        })
        .await
    }

    /// Number of messages per direction and status (statistics and tests).
    pub async fn message_counts(&self) -> Result<Vec<(bool, String, i64)>, StoreError> {
        self.run(|conn| {
            let rows = messages::table
                .group_by((messages::direction, messages::status))
                .select(MessageCount::as_select())
                .load(conn)?;
            Ok(rows
                .into_iter()
                .map(|row| (row.direction == OUTBOUND, row.status, row.count))
                .collect())
        })
        .await
    }
}

/// A write answered with the wrong kind of outcome: a bug in this crate, reported, not panicked on.
pub(crate) fn unexpected(outcome: Written) -> StoreError {
    StoreError::Query(format!("internal: unexpected write outcome {outcome:?}"))
}

pub(crate) fn insert_outbound_on(
    conn: &mut DbConnection,
    msg: &OutboundMessage,
    expires_ms: Option<i64>,
) -> Result<(), StoreError> {
    diesel::insert_into(messages::table)
        .values((
            messages::id.eq(&msg.id),
            messages::direction.eq(OUTBOUND),
            messages::peer.eq(&msg.to),
            messages::msg_type.eq(&msg.msg_type),
            messages::payload.eq(&msg.payload),
            messages::status.eq(PENDING),
            messages::created_ms.eq(msg.created_ms),
            messages::updated_ms.eq(msg.created_ms),
            messages::expires_ms.eq(expires_ms),
        ))
        .execute(conn)?;
    Ok(())
}

/// See [`Store::record_status`]; runs inside the caller's transaction.
pub(crate) fn record_status_on(
    conn: &mut DbConnection,
    message_id: &str,
    status: &str,
    callback: Option<&NewCallback>,
    after_sent_only: bool,
) -> Result<StatusOutcome, StoreError> {
    // One conditional update is the compare-and-set: of two writers racing on one message
    // (another coreapp, or a database that lets both read before either writes), a status is only
    // ever recorded over an earlier one. Only when nothing moved is the row read, to say why.
    let target = rank(status);
    let floor = if after_sent_only { rank("sent") } else { 0 };
    for _ in 0..STATUS_ORDER.len() {
        let now = now_ms();
        let ranks = floor..=target - 1;
        if crate::dialect::advance_status(conn, message_id, status, ranks, now)? {
            if let Some(callback) = callback {
                insert_callback(conn, callback, now)?;
            }
            return Ok(StatusOutcome::Advanced);
        }
        let current = messages::table
            .find(message_id)
            .filter(messages::direction.eq(OUTBOUND))
            .select(messages::status)
            .first::<String>(conn)
            .optional()?;
        let Some(current) = current else {
            return Ok(StatusOutcome::UnknownMessage);
        };
        if target <= rank(&current) {
            return Ok(StatusOutcome::NotNewer);
        }
        if after_sent_only && current == PENDING {
            return Ok(StatusOutcome::NotSentYet);
        }
        // The row moved between the update and the read: decide again on its new status.
    }
    // Each lost race moved the status forward; after as many rounds as there are statuses it
    // can only be at the end already.
    Ok(StatusOutcome::NotNewer)
}

/// See [`Store::insert_inbound`]; runs inside the caller's transaction.
pub(crate) fn insert_inbound_on(
    conn: &mut DbConnection,
    msg: &InboundMessage,
    callback: &NewCallback,
) -> Result<bool, StoreError> {
    if !crate::dialect::insert_inbound_unless_present(conn, msg)? {
        return Ok(false);
    }
    insert_callback(conn, callback, msg.received_ms)?;
    Ok(true)
}
