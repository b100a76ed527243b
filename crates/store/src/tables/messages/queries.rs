//! Storing a message to send, and every read and clean-up of the `messages` table.

use diesel::prelude::*;

use super::types::{OutboundMessage, ShardSlice, StoredMessage, INBOUND, OUTBOUND, PENDING};
use crate::db::{write_transaction, DbConnection};
use crate::{schema::messages, StoreError};

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
    errors: Option<String>,
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
            errors: self.errors,
        }
    }
}

/// How many messages have one direction and status.
#[derive(Queryable, Selectable)]
#[diesel(table_name = messages)]
struct StatusCount {
    direction: String,
    status: String,
    #[diesel(select_expression = diesel::dsl::count_star())]
    #[diesel(select_expression_type = diesel::dsl::CountStar)]
    count: i64,
}

/// How many messages have one message type.
#[derive(Queryable, Selectable)]
#[diesel(table_name = messages)]
struct TypeCount {
    msg_type: String,
    #[diesel(select_expression = diesel::dsl::count_star())]
    #[diesel(select_expression_type = diesel::dsl::CountStar)]
    count: i64,
}

/// Statuses that only a receipt from the recipient's phone can set.
const RECEIPT_STATUSES: [&str; 2] = ["delivered", "read"];

/// Stores a message to send as `pending` (inside the caller's transaction).
pub(crate) fn insert_outbound(
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
            messages::shard_key.eq(i64::from(wa_api::cluster::shard_key(&msg.to))),
        ))
        .execute(conn)?;
    Ok(())
}

/// Pending outbound messages, oldest first, minus `exclude`; only `shard`'s when given.
pub(crate) fn pending_outbound(
    conn: &mut DbConnection,
    limit: i64,
    exclude: Vec<String>,
    shard: Option<ShardSlice>,
) -> Result<Vec<OutboundMessage>, StoreError> {
    Ok(pending_of(shard)
        .filter(messages::id.ne_all(exclude))
        .order((messages::created_ms.asc(), messages::id.asc()))
        .limit(limit)
        .select(OutboundMessage::as_select())
        .load(conn)?)
}

/// Pending outbound messages whose expiry is at or before `now_ms`, oldest first, minus
/// `exclude`; only `shard`'s when given.
pub(crate) fn expired_outbound(
    conn: &mut DbConnection,
    now_ms: i64,
    limit: i64,
    exclude: Vec<String>,
    shard: Option<ShardSlice>,
) -> Result<Vec<OutboundMessage>, StoreError> {
    Ok(pending_of(shard)
        .filter(messages::expires_ms.le(now_ms))
        .filter(messages::id.ne_all(exclude))
        .order((messages::created_ms.asc(), messages::id.asc()))
        .limit(limit)
        .select(OutboundMessage::as_select())
        .load(conn)?)
}

type PendingQuery<'a> = messages::BoxedQuery<'a, <DbConnection as Connection>::Backend>;

/// Pending outbound messages, of one shard when `shard` is given: `shard_key % count = index`,
/// the same arithmetic on all three backends (`%` on BIGINT). Both numbers are integers, never
/// client input.
fn pending_of<'a>(shard: Option<ShardSlice>) -> PendingQuery<'a> {
    let query = messages::table
        .filter(messages::status.eq(PENDING))
        .filter(messages::direction.eq(OUTBOUND))
        .into_boxed();
    match shard {
        Some(ShardSlice { index, count }) if count > 1 => {
            query.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
                "shard_key % {count} = {index}"
            )))
        }
        _ => query,
    }
}

/// Gives pending outbound messages stored before the `shard_key` column existed their key
/// (run at start; nothing to do once every pending message has one). Returns how many.
pub(crate) fn fill_shard_keys(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let mut filled = 0;
    loop {
        let missing: Vec<(String, String)> = messages::table
            .filter(messages::shard_key.is_null())
            .filter(messages::status.eq(PENDING))
            .filter(messages::direction.eq(OUTBOUND))
            .select((messages::id, messages::peer))
            .limit(500)
            .load(conn)?;
        if missing.is_empty() {
            return Ok(filled);
        }
        for (id, peer) in missing {
            let key = i64::from(wa_api::cluster::shard_key(&peer));
            diesel::update(messages::table.find(id))
                .set(messages::shard_key.eq(key))
                .execute(conn)?;
            filled += 1;
        }
    }
}

pub(crate) fn find(conn: &mut DbConnection, id: &str) -> Result<Option<StoredMessage>, StoreError> {
    let row = messages::table
        .find(id)
        .select(MessageRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(MessageRow::into_stored))
}

/// Records why outbound message `id` failed (a JSON array of error objects).
pub(crate) fn set_errors(
    conn: &mut DbConnection,
    id: &str,
    errors: &str,
) -> Result<(), StoreError> {
    diesel::update(messages::table.find(id))
        .set(messages::errors.eq(Some(errors)))
        .execute(conn)?;
    Ok(())
}

/// When `peer` last wrote to the business (milliseconds), if ever.
pub(crate) fn last_inbound_ms(
    conn: &mut DbConnection,
    peer: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(messages::table
        .filter(messages::direction.eq(INBOUND))
        .filter(messages::peer.eq(peer))
        .select(diesel::dsl::max(messages::created_ms))
        .first(conn)?)
}

/// Number of messages per direction (true: outbound) and status.
pub(crate) fn counts(conn: &mut DbConnection) -> Result<Vec<(bool, String, i64)>, StoreError> {
    let rows = messages::table
        .group_by((messages::direction, messages::status))
        .select(StatusCount::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| (row.direction == OUTBOUND, row.status, row.count))
        .collect())
}

/// Messages in both directions by message type, sorted by type.
pub(crate) fn type_counts(conn: &mut DbConnection) -> Result<Vec<(String, i64)>, StoreError> {
    let mut counts: Vec<(String, i64)> = messages::table
        .group_by(messages::msg_type)
        .select(TypeCount::as_select())
        .load(conn)?
        .into_iter()
        .map(|row: TypeCount| (row.msg_type, row.count))
        .collect();
    counts.sort();
    Ok(counts)
}

/// Outbound messages a receipt from the phone has reached (`delivered` or `read`).
pub(crate) fn receipt_count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(messages::table
        .filter(messages::direction.eq(OUTBOUND))
        .filter(messages::status.eq_any(RECEIPT_STATUSES.to_vec()))
        .count()
        .get_result(conn)?)
}

/// Outbound messages stored and not yet accepted by the network (the send queue).
pub(crate) fn pending_count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(messages::table
        .filter(messages::direction.eq(OUTBOUND))
        .filter(messages::status.eq(PENDING))
        .count()
        .get_result(conn)?)
}

/// Deletes up to `limit` messages last updated before `cutoff_ms`, keeping pending outbound ones
/// whatever their age (they have not reached the network yet); returns how many went.
pub(crate) fn delete_old(
    conn: &mut DbConnection,
    cutoff_ms: i64,
    limit: i64,
) -> Result<usize, StoreError> {
    write_transaction(conn, |conn| {
        let ids: Vec<String> = messages::table
            .filter(messages::updated_ms.lt(cutoff_ms))
            .filter(messages::status.ne(PENDING))
            .order(messages::updated_ms.asc())
            .limit(limit)
            .select(messages::id)
            .load(conn)?;
        if ids.is_empty() {
            return Ok(0);
        }
        Ok(diesel::delete(messages::table.filter(messages::id.eq_any(ids))).execute(conn)?)
    })
}
