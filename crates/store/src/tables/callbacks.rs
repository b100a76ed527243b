//! The durable webhook outbox (`callback_persist`): every event the business must hear about is a
//! row here until the receiver answers 200. Rows are written in the same transaction as the event
//! itself (see `messages`), so an event is never recorded without its webhook.

use diesel::prelude::*;

use crate::db::{insert_unless_duplicate, DbConnection};
use crate::{schema::callbacks, StoreError};
use wa_api::webhooks::{CallbackKind, WebhookTarget};

/// A webhook to deliver. `event_key` identifies the event (e.g. `status:<id>:delivered`), so
/// processing the same event twice queues it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCallback {
    pub event_key: String,
    pub kind: String,
    /// The On-Prem body; the Cloud target translates it when it posts.
    pub body: String,
    /// Queue a row for the Cloud API subscription too (one is subscribed and it reports this
    /// kind), so each target has the event durably.
    pub cloud: bool,
}

impl NewCallback {
    /// The targets this webhook is queued for: the On-Prem URL unless it has no webhook for the
    /// kind (a Cloud-only event), and the Cloud subscription when asked.
    fn targets(&self) -> &'static [WebhookTarget] {
        let onprem =
            CallbackKind::parse(&self.kind).is_none_or(|kind| WebhookTarget::OnPrem.reports(kind));
        match (onprem, self.cloud) {
            (true, true) => &[WebhookTarget::OnPrem, WebhookTarget::Cloud],
            (true, false) => &[WebhookTarget::OnPrem],
            (false, true) => &[WebhookTarget::Cloud],
            (false, false) => &[],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = callbacks)]
pub struct PendingCallback {
    pub id: i64,
    pub kind: String,
    pub body: String,
    pub attempts: i32,
}

/// A new outbox row: the callback for one target, due at once, never tried.
#[derive(Insertable)]
#[diesel(table_name = callbacks)]
struct CallbackRow<'a> {
    event_key: String,
    kind: &'a str,
    body: &'a str,
    attempts: i32,
    next_attempt_ms: i64,
    last_error: &'a str,
    created_ms: i64,
    target: i16,
}

impl<'a> CallbackRow<'a> {
    /// One row per target of `callback`.
    fn all(callback: &'a NewCallback, now_ms: i64) -> impl Iterator<Item = CallbackRow<'a>> {
        callback.targets().iter().map(move |target| CallbackRow {
            event_key: target.event_key(&callback.event_key),
            kind: &callback.kind,
            body: &callback.body,
            attempts: 0,
            next_attempt_ms: now_ms,
            last_error: "",
            created_ms: now_ms,
            target: target.code(),
        })
    }
}

/// Queues `callback` for each of its targets (inside the caller's transaction); false when its
/// event was already queued for its first target, or it has no target (a Cloud-only event while
/// nothing is subscribed). One statement per row that skips a duplicate key,
/// rather than a check then an insert: the check's range lock made concurrent MariaDB
/// transactions deadlock (found by the benchmark).
pub(crate) fn insert(
    conn: &mut DbConnection,
    callback: &NewCallback,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let mut first_new = None;
    for row in CallbackRow::all(callback, now_ms) {
        let inserted: usize =
            insert_unless_duplicate!(conn, callbacks::table, &row, callbacks::event_key)?;
        first_new.get_or_insert(inserted > 0);
    }
    Ok(first_new.unwrap_or(false))
}

/// Queues several callbacks (inside the caller's transaction) in one statement where the backend
/// allows, skipping any whose event was already queued. A batch of statuses otherwise sends one
/// `INSERT` per status, each a round trip (docs/performance.md). The rows get their ids in the
/// order given.
pub(crate) fn insert_all(
    conn: &mut DbConnection,
    new: &[&NewCallback],
    now_ms: i64,
) -> Result<(), StoreError> {
    if new.len() < 2 {
        return insert_each(conn, new, now_ms);
    }
    let rows: Vec<CallbackRow> = new
        .iter()
        .flat_map(|callback| CallbackRow::all(callback, now_ms))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        DbConnection::Postgresql(pg) => {
            diesel::insert_into(callbacks::table)
                .values(&rows)
                .on_conflict(callbacks::event_key)
                .do_nothing()
                .execute(pg)?;
            Ok(())
        }
        DbConnection::Mysql(my) => {
            let together = diesel::insert_into(callbacks::table)
                .values(&rows)
                .execute(my);
            match together.map_err(StoreError::from) {
                // One row's event was queued already: MySQL undid the statement (not the
                // transaction), so each row goes alone and the duplicate is skipped.
                Err(StoreError::Conflict) => insert_each(conn, new, now_ms),
                other => other.map(|_| ()),
            }
        }
        // SQLite has no round trip to save.
        DbConnection::Sqlite(_) => insert_each(conn, new, now_ms),
    }
}

/// [`insert`] for each callback in turn.
fn insert_each(
    conn: &mut DbConnection,
    new: &[&NewCallback],
    now_ms: i64,
) -> Result<(), StoreError> {
    for callback in new {
        insert(conn, callback, now_ms)?;
    }
    Ok(())
}

pub(crate) fn delete(conn: &mut DbConnection, id: i64) -> Result<(), StoreError> {
    diesel::delete(callbacks::table.find(id)).execute(conn)?;
    Ok(())
}

/// Several deliveries in one statement (a burst of delivered webhooks is otherwise one each).
///
/// PostgreSQL plans this statement at each call, for the ids given and the outbox's size at that
/// moment. Prepared once per connection it kept the plan made while the outbox was a few pages:
/// a sequential scan, which then reads every page the outbox has grown to (a row per webhook
/// until VACUUM reclaims them, never with autovacuum off) for each batch of deliveries. MySQL
/// and SQLite plan each run of it anyway (the list of ids varies in length).
pub(crate) fn delete_all(conn: &mut DbConnection, ids: &[i64]) -> Result<(), StoreError> {
    match conn {
        DbConnection::Postgresql(conn) => {
            // `sql_query` is never cached, so the server plans it with the ids bound.
            diesel::sql_query("DELETE FROM callbacks WHERE id = ANY($1)")
                .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(ids)
                .execute(conn)?;
        }
        conn => {
            diesel::delete(callbacks::table.filter(callbacks::id.eq_any(ids))).execute(conn)?;
        }
    }
    Ok(())
}

/// Callbacks of `target` due at `now_ms`, oldest first, skipping the ids in `exclude`.
pub(crate) fn due(
    conn: &mut DbConnection,
    target: WebhookTarget,
    now_ms: i64,
    limit: i64,
    exclude: Vec<i64>,
) -> Result<Vec<PendingCallback>, StoreError> {
    Ok(callbacks::table
        .filter(callbacks::target.eq(target.code()))
        .filter(callbacks::next_attempt_ms.le(now_ms))
        .filter(callbacks::id.ne_all(exclude))
        .order((callbacks::next_attempt_ms.asc(), callbacks::id.asc()))
        .limit(limit)
        .select(PendingCallback::as_select())
        .load(conn)?)
}

/// Records a failed attempt and when to try again.
pub(crate) fn reschedule(
    conn: &mut DbConnection,
    id: i64,
    attempts: i32,
    next_attempt_ms: i64,
    last_error: String,
) -> Result<(), StoreError> {
    diesel::update(callbacks::table.find(id))
        .set((
            callbacks::attempts.eq(attempts),
            callbacks::next_attempt_ms.eq(next_attempt_ms),
            callbacks::last_error.eq(last_error),
        ))
        .execute(conn)?;
    Ok(())
}

/// Rows of the outbox.
pub(crate) fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(callbacks::table.count().get_result(conn)?)
}

/// Forgets every queued webhook of `target` (its subscription ended); returns how many.
pub(crate) fn delete_target(
    conn: &mut DbConnection,
    target: WebhookTarget,
) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(callbacks::table.filter(callbacks::target.eq(target.code())))
            .execute(conn)?,
    )
}

/// Every body of `kind` queued for `target`, oldest first.
pub(crate) fn bodies_of_kind(
    conn: &mut DbConnection,
    target: WebhookTarget,
    kind: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(callbacks::table
        .filter(callbacks::target.eq(target.code()))
        .filter(callbacks::kind.eq(kind))
        .order(callbacks::id.asc())
        .select(callbacks::body)
        .load(conn)?)
}
