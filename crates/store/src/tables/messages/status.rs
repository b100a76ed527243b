//! Recording an outbound message's status with its webhook: statuses only move forward.

use diesel::prelude::*;

use super::types::{rank, StatusOutcome, OUTBOUND, PENDING, STATUS_ORDER};
use crate::clock::now_ms;
use crate::db::DbConnection;
use crate::tables::callbacks::{self, NewCallback};
use crate::{schema::messages, StoreError};

/// Moves outbound message `message_id` to `status` and queues `callback` (inside the caller's
/// transaction), unless the message already has this or a later status; with `after_sent_only`
/// (a receipt), not over `pending` either. `errors` (why a message failed) is kept with the
/// message when it moves, in the same transaction, so a write run again after a rollback cannot
/// record the status without them.
pub(crate) fn record_status(
    conn: &mut DbConnection,
    message_id: &str,
    status: &str,
    callback: Option<&NewCallback>,
    after_sent_only: bool,
    errors: Option<&str>,
) -> Result<StatusOutcome, StoreError> {
    // One conditional update is the compare-and-set: of two writers racing on one message
    // (another coreapp, or a database that lets both read before either writes), a status is only
    // ever recorded over an earlier one. Only when nothing moved is the row read, to say why.
    let target = rank(status);
    let floor = if after_sent_only { rank("sent") } else { 0 };
    for _ in 0..STATUS_ORDER.len() {
        let now = now_ms();
        let ranks = floor..=target - 1;
        if advance_status(conn, message_id, status, ranks, now)? {
            if let Some(errors) = errors {
                super::queries::set_errors(conn, message_id, errors)?;
            }
            if let Some(callback) = callback {
                callbacks::insert(conn, callback, now)?;
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

/// Moves outbound message `id` to `status` if its current status ranks within `from_rank..=to_rank`
/// (ranks of [`STATUS_ORDER`]), in one statement: the condition is the
/// compare-and-set, so no read precedes it. True when the row moved.
///
/// diesel never caches an `UPDATE` it builds (each one is prepared, run and closed: three round
/// trips on MySQL, three times per message), so this is a fixed-shape statement of our own that
/// every connection prepares once. The rank is spelled as a portable `CASE`.
fn advance_status(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    ranks: std::ops::RangeInclusive<i32>,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let update = status_update::AdvanceStatus {
        id,
        status,
        from_rank: *ranks.start(),
        to_rank: *ranks.end(),
        now_ms,
    };
    let moved = match conn {
        DbConnection::Mysql(conn) => update.execute(conn)?,
        DbConnection::Postgresql(conn) => update.execute(conn)?,
        DbConnection::Sqlite(conn) => update.execute(conn)?,
    };
    Ok(moved > 0)
}

mod status_update {
    use diesel::backend::Backend;
    use diesel::query_builder::{AstPass, QueryFragment, QueryId};
    use diesel::sql_types::{BigInt, Integer, Text};
    use diesel::{QueryResult, RunQueryDsl};

    use super::super::types::{OUTBOUND, STATUS_ORDER};

    pub(super) struct AdvanceStatus<'a> {
        pub(super) id: &'a str,
        pub(super) status: &'a str,
        pub(super) from_rank: i32,
        pub(super) to_rank: i32,
        pub(super) now_ms: i64,
    }

    /// The SQL text never changes, so the type alone can key the prepared-statement cache.
    impl QueryId for AdvanceStatus<'_> {
        type QueryId = AdvanceStatus<'static>;
        const HAS_STATIC_QUERY_ID: bool = true;
    }

    impl<DB> QueryFragment<DB> for AdvanceStatus<'_>
    where
        DB: Backend
            + diesel::sql_types::HasSqlType<Text>
            + diesel::sql_types::HasSqlType<BigInt>
            + diesel::sql_types::HasSqlType<Integer>,
        str: diesel::serialize::ToSql<Text, DB>,
        i64: diesel::serialize::ToSql<BigInt, DB>,
        i32: diesel::serialize::ToSql<Integer, DB>,
    {
        fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
            out.push_sql("UPDATE messages SET status = ");
            out.push_bind_param::<Text, str>(self.status)?;
            out.push_sql(", updated_ms = ");
            out.push_bind_param::<BigInt, i64>(&self.now_ms)?;
            out.push_sql(" WHERE id = ");
            out.push_bind_param::<Text, str>(self.id)?;
            out.push_sql(" AND direction = '");
            out.push_sql(OUTBOUND);
            out.push_sql("' AND (CASE status");
            for (rank, name) in STATUS_ORDER.iter().enumerate() {
                out.push_sql(&format!(" WHEN '{name}' THEN {rank}"));
            }
            out.push_sql(" ELSE 0 END) BETWEEN ");
            out.push_bind_param::<Integer, i32>(&self.from_rank)?;
            out.push_sql(" AND ");
            out.push_bind_param::<Integer, i32>(&self.to_rank)?;
            Ok(())
        }
    }

    impl<Conn> RunQueryDsl<Conn> for AdvanceStatus<'_> {}
}
