//! The durable webhook outbox (`callback_persist`): every event the business must hear about is a
//! row here until the receiver answers 200. Rows are written in the same transaction as the event
//! itself (see `messages.rs`), so an event is never recorded without its webhook.

use diesel::prelude::*;

use crate::group_commit::{Write, Written};
use crate::schema::callbacks;
use crate::{connection::DbConnection, Store, StoreError};

/// A webhook to deliver. `event_key` identifies the event (e.g. `status:<id>:delivered`), so
/// processing the same event twice queues it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCallback {
    pub event_key: String,
    pub kind: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = callbacks)]
pub struct PendingCallback {
    pub id: i64,
    pub kind: String,
    pub body: String,
    pub attempts: i32,
}

/// Queues `callback` on `conn` (inside the caller's transaction); false when its event was
/// already queued. One statement that skips a duplicate key, rather than a check then an insert:
/// the check's range lock made concurrent MariaDB transactions deadlock (found by the benchmark).
pub(crate) fn insert_callback(
    conn: &mut DbConnection,
    callback: &NewCallback,
    now_ms: i64,
) -> Result<bool, StoreError> {
    crate::dialect::insert_callback_unless_queued(conn, callback, now_ms)
}

pub(crate) fn delete_callback_on(conn: &mut DbConnection, id: i64) -> Result<(), StoreError> {
    diesel::delete(callbacks::table.find(id)).execute(conn)?;
    Ok(())
}

pub(crate) fn delete_callbacks_on(conn: &mut DbConnection, ids: &[i64]) -> Result<(), StoreError> {
    diesel::delete(callbacks::table.filter(callbacks::id.eq_any(ids))).execute(conn)?;
    Ok(())
}

impl Store {
    /// Queues a webhook that belongs to no other write; false when its event was queued before.
    pub async fn enqueue_callback(&self, callback: NewCallback) -> Result<bool, StoreError> {
        match self.write(Write::EnqueueCallback(callback)).await? {
            Written::Inserted(new) => Ok(new),
            other => Err(crate::messages::unexpected(other)),
        }
    }

    /// Callbacks due at `now_ms`, oldest first, skipping the ids in `exclude` (in flight).
    pub async fn due_callbacks(
        &self,
        now_ms: i64,
        limit: i64,
        exclude: Vec<i64>,
    ) -> Result<Vec<PendingCallback>, StoreError> {
        self.run(move |conn| {
            Ok(callbacks::table
                .filter(callbacks::next_attempt_ms.le(now_ms))
                .filter(callbacks::id.ne_all(exclude))
                .order((callbacks::next_attempt_ms.asc(), callbacks::id.asc()))
                .limit(limit)
                .select(PendingCallback::as_select())
                .load(conn)?)
        })
        .await
    }

    /// The receiver took it: forget it.
    pub async fn delete_callback(&self, id: i64) -> Result<(), StoreError> {
        self.write(Write::DeleteCallback(id)).await.map(|_| ())
    }

    pub async fn reschedule_callback(
        &self,
        id: i64,
        attempts: i32,
        next_attempt_ms: i64,
        last_error: String,
    ) -> Result<(), StoreError> {
        self.run(move |conn| {
            diesel::update(callbacks::table.find(id))
                .set((
                    callbacks::attempts.eq(attempts),
                    callbacks::next_attempt_ms.eq(next_attempt_ms),
                    callbacks::last_error.eq(last_error),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
    }

    pub async fn pending_callback_count(&self) -> Result<i64, StoreError> {
        self.run(|conn| Ok(callbacks::table.count().get_result::<i64>(conn)?))
            .await
    }

    /// Every queued body of `kind`, oldest first (diagnostics and tests).
    pub async fn queued_callback_bodies(&self, kind: &str) -> Result<Vec<String>, StoreError> {
        let kind = kind.to_string();
        self.run(move |conn| {
            Ok(callbacks::table
                .filter(callbacks::kind.eq(kind))
                .order(callbacks::id.asc())
                .select(callbacks::body)
                .load::<String>(conn)?)
        })
        .await
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
