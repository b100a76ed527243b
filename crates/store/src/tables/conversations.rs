//! Conversations: the 24-hour pricing windows reported in status webhooks (`conversation`,
//! `pricing`). One open conversation per recipient.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::{schema::conversations, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = conversations)]
pub struct Conversation {
    pub id: String,
    /// `business_initiated` or `user_initiated`.
    pub origin: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// The conversation open with `recipient` at `now`, or `candidate` when none is: then it is
/// stored and the flag is true.
///
/// Two writers may open one recipient's conversation at once (the `sent` of a send and the
/// phone's `delivered` receipt racing for it), and writers for different recipients open theirs
/// side by side. Each step is one statement on the recipient's primary key, in no transaction:
/// a read; an expired row is replaced in place by a conditional `UPDATE` (a lock on that row
/// only); a missing row is inserted, and a racer's insert fails on the key. The loser of either
/// race reads again and reports the winner's conversation, so both webhooks name the same.
///
/// No statement touches a row that does not exist: the earlier shape (read, `DELETE` the expired
/// row, insert, in one transaction) made MariaDB lock the gap where a missing row would go, and
/// two recipients whose rows would share a gap then deadlocked on their inserts.
pub(crate) fn open(
    conn: &mut DbConnection,
    recipient: &str,
    now: i64,
    candidate: Conversation,
) -> Result<(Conversation, bool), StoreError> {
    // Every lost race means a racer stored an open conversation, which the next read finds: a
    // second round is the most a writer needs unless that conversation expired meanwhile.
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        match open_once(conn, recipient, now, &candidate) {
            Ok(Some(outcome)) => return Ok(outcome),
            Ok(None) => {}
            Err(error @ (StoreError::Conflict | StoreError::Contention(_))) => {
                last_error = Some(error);
            }
            Err(other) => return Err(other),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        StoreError::Contention(format!(
            "the conversation with {recipient} kept changing while it was opened"
        ))
    }))
}

/// Rounds of [`open`] before it gives up.
const ATTEMPTS: usize = 4;

/// One round: the open conversation, ours when we stored it; `None` when a racer changed the row
/// between our read and our write (then the next round reads it).
fn open_once(
    conn: &mut DbConnection,
    recipient: &str,
    now: i64,
    candidate: &Conversation,
) -> Result<Option<(Conversation, bool)>, StoreError> {
    let stored = conversations::table
        .find(recipient)
        .select(Conversation::as_select())
        .first(conn)
        .optional()?;
    match stored {
        Some(open) if open.expires_at > now => Ok(Some((open, false))),
        Some(_expired) => {
            let replaced = diesel::update(
                conversations::table
                    .find(recipient)
                    .filter(conversations::expires_at.le(now)),
            )
            .set((
                conversations::id.eq(&candidate.id),
                conversations::origin.eq(&candidate.origin),
                conversations::expires_at.eq(candidate.expires_at),
            ))
            .execute(conn)?;
            Ok((replaced > 0).then(|| (candidate.clone(), true)))
        }
        None => {
            diesel::insert_into(conversations::table)
                .values((
                    conversations::recipient.eq(recipient),
                    conversations::id.eq(&candidate.id),
                    conversations::origin.eq(&candidate.origin),
                    conversations::expires_at.eq(candidate.expires_at),
                ))
                .execute(conn)?;
            Ok(Some((candidate.clone(), true)))
        }
    }
}
