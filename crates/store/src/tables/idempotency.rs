//! Idempotency keys of `POST /v1/messages`: the first answer to a send made with a key, stored in
//! the transaction that stores the message, so a retry after a lost answer finds either both or
//! neither, whichever webapp or coreapp it reaches.

use diesel::prelude::*;

use crate::db::{write_transaction, DbConnection};
use crate::schema::idempotency_keys;
use crate::tables::messages::{self, OutboundMessage};
use crate::StoreError;

/// The answer a key was first given.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotentSend {
    #[diesel(column_name = idem_key)]
    pub key: String,
    /// Identifies the request's body, so the same key with another body can be refused.
    pub request_hash: String,
    pub message_id: String,
    /// The JSON body of the first answer.
    pub response: String,
    /// When the first answer was given (Unix milliseconds); the key is forgotten 24 hours later.
    pub created_ms: i64,
}

/// The answer stored for `key` at or after `since_ms`.
pub(crate) fn find(
    conn: &mut DbConnection,
    key: &str,
    since_ms: i64,
) -> Result<Option<IdempotentSend>, StoreError> {
    Ok(idempotency_keys::table
        .find(key)
        .filter(idempotency_keys::created_ms.ge(since_ms))
        .select(IdempotentSend::as_select())
        .first(conn)
        .optional()?)
}

/// Stores `message` and the answer for its key in one transaction. When the key is already
/// taken (by a send at or after `since_ms`, possibly one committing right now) nothing is stored
/// and that send's answer is returned instead.
///
/// The transaction inserts the key, then the message: it touches no row that does not exist. A
/// key older than the window is removed only once the insert found it, by a statement of its
/// own, and the send is tried again. (Removing it first inside the transaction, whether or not it
/// was there, made MariaDB lock the gap where a missing key would go, and two sends with
/// different keys then deadlocked on their inserts.)
pub(crate) fn insert_with_message(
    conn: &mut DbConnection,
    answer: &IdempotentSend,
    message: &OutboundMessage,
    expires_ms: Option<i64>,
    since_ms: i64,
) -> Result<Option<IdempotentSend>, StoreError> {
    let mut outcome = Err(StoreError::Conflict);
    for _ in 0..ATTEMPTS {
        outcome = match store_together(conn, answer, message, expires_ms) {
            Ok(()) => return Ok(None),
            Err(StoreError::Conflict) => match find(conn, &answer.key, since_ms)? {
                Some(first) => return Ok(Some(first)),
                None => {
                    // The key's row is older than the window (or went since): make way.
                    delete_stale(conn, &answer.key, since_ms)?;
                    Err(StoreError::Conflict)
                }
            },
            // A server that broke a deadlock between racing sends rolled the whole transaction
            // back: the next round finds the key taken or stores both.
            Err(error) if error.is_contention() => Err(error),
            Err(other) => return Err(other),
        };
    }
    outcome.map(|()| None)
}

/// Rounds of [`insert_with_message`] before it gives up.
const ATTEMPTS: usize = 4;

fn store_together(
    conn: &mut DbConnection,
    answer: &IdempotentSend,
    message: &OutboundMessage,
    expires_ms: Option<i64>,
) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        // The key first: a concurrent send with the same key waits here for the first one's
        // transaction, then fails on the primary key and stores no message.
        diesel::insert_into(idempotency_keys::table)
            .values(answer)
            .execute(conn)?;
        messages::insert_outbound(conn, message, expires_ms)
    })
}

/// Removes `key`'s row if it was stored before `since_ms`.
fn delete_stale(conn: &mut DbConnection, key: &str, since_ms: i64) -> Result<(), StoreError> {
    diesel::delete(
        idempotency_keys::table
            .find(key)
            .filter(idempotency_keys::created_ms.lt(since_ms)),
    )
    .execute(conn)?;
    Ok(())
}

/// Forgets the keys stored before `before_ms`; returns how many.
pub(crate) fn delete_older_than(
    conn: &mut DbConnection,
    before_ms: i64,
) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_ms.lt(before_ms)))
            .execute(conn)?,
    )
}
