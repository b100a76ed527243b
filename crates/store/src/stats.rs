//! Counts for the statistics endpoints (`GET /v1/stats/db`, the queue gauges of
//! `GET /v1/stats/app`) and the timing of every query this process runs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::prelude::*;

use crate::messages::{OUTBOUND, PENDING};
use crate::schema::{callbacks, contacts, messages};
use crate::{Store, StoreError};

/// What `GET /v1/stats/db` reports, read from the tables at the time of the call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbCounts {
    /// Cached contact checks that found a WhatsApp account.
    pub contacts_on_whatsapp: i64,
    pub contacts_not_on_whatsapp: i64,
    /// Outbound messages a receipt from the phone has reached (`delivered` or `read`).
    pub message_receipts: i64,
    /// Messages in both directions by message type (`text`, `image`, ...), sorted by type.
    pub messages_by_type: Vec<(String, i64)>,
    /// Rows of the webhook outbox.
    pub pending_callbacks: i64,
    /// Outbound messages the network has not accepted yet.
    pub pending_messages: i64,
}

/// How many cached contact checks have one answer.
#[derive(Queryable, Selectable)]
#[diesel(table_name = contacts)]
struct ContactCount {
    on_whatsapp: bool,
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

impl Store {
    /// Every count of `GET /v1/stats/db`. Each is one indexed or grouped `COUNT(*)`; on a large
    /// database they still scan, which is why the spec says to poll this endpoint sparingly.
    pub async fn db_counts(&self) -> Result<DbCounts, StoreError> {
        self.run(|conn| {
            let contact_rows = contacts::table
                .group_by(contacts::on_whatsapp)
                .select(ContactCount::as_select())
                .load(conn)?;
            let count_contacts = |wanted: bool| {
                contact_rows
                    .iter()
                    .filter(|row| row.on_whatsapp == wanted)
                    .map(|row| row.count)
                    .sum()
            };
            let mut messages_by_type: Vec<(String, i64)> = messages::table
                .group_by(messages::msg_type)
                .select(TypeCount::as_select())
                .load(conn)?
                .into_iter()
                .map(|row: TypeCount| (row.msg_type, row.count))
                .collect();
            messages_by_type.sort();
            let message_receipts = messages::table
                .filter(messages::direction.eq(OUTBOUND))
                .filter(messages::status.eq_any(RECEIPT_STATUSES.to_vec()))
                .count()
                .get_result::<i64>(conn)?;
            let pending_callbacks = callbacks::table.count().get_result::<i64>(conn)?;
            let pending_messages = pending_outbound(conn)?;
            Ok(DbCounts {
                contacts_on_whatsapp: count_contacts(true),
                contacts_not_on_whatsapp: count_contacts(false),
                message_receipts,
                messages_by_type,
                pending_callbacks,
                pending_messages,
            })
        })
        .await
    }

    /// Outbound messages stored and not yet accepted by the network (the send queue).
    pub async fn pending_outbound_count(&self) -> Result<i64, StoreError> {
        self.run(pending_outbound).await
    }
}

fn pending_outbound(conn: &mut crate::connection::DbConnection) -> Result<i64, StoreError> {
    Ok(messages::table
        .filter(messages::direction.eq(OUTBOUND))
        .filter(messages::status.eq(PENDING))
        .count()
        .get_result::<i64>(conn)?)
}

/// Running totals of the queries run through one [`Store`] (and its clones), split by outcome,
/// for the `db_request_duration_us_*` and `db_request_error_duration_us_*` statistics.
#[derive(Debug, Default)]
pub(crate) struct QueryClock {
    ok_count: AtomicU64,
    ok_micros: AtomicU64,
    error_count: AtomicU64,
    error_micros: AtomicU64,
}

/// A copy of the totals at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryTimings {
    pub ok_count: u64,
    pub ok_micros: u64,
    pub error_count: u64,
    pub error_micros: u64,
}

impl QueryClock {
    pub(crate) fn record(&self, succeeded: bool, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let (count, total) = if succeeded {
            (&self.ok_count, &self.ok_micros)
        } else {
            (&self.error_count, &self.error_micros)
        };
        count.fetch_add(1, Ordering::Relaxed);
        total.fetch_add(micros, Ordering::Relaxed);
    }

    pub(crate) fn totals(&self) -> QueryTimings {
        QueryTimings {
            ok_count: self.ok_count.load(Ordering::Relaxed),
            ok_micros: self.ok_micros.load(Ordering::Relaxed),
            error_count: self.error_count.load(Ordering::Relaxed),
            error_micros: self.error_micros.load(Ordering::Relaxed),
        }
    }
}
