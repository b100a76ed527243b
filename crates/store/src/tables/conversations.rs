//! Conversations: the 24-hour pricing windows reported in status webhooks (`conversation`,
//! `pricing`). One open conversation per recipient.

use diesel::prelude::*;

use crate::db::{write_transaction, DbConnection};
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
pub(crate) fn open(
    conn: &mut DbConnection,
    recipient: &str,
    now: i64,
    candidate: Conversation,
) -> Result<(Conversation, bool), StoreError> {
    write_transaction(conn, |conn| {
        let open = conversations::table
            .find(recipient)
            .filter(conversations::expires_at.gt(now))
            .select(Conversation::as_select())
            .first(conn)
            .optional()?;
        if let Some(open) = open {
            return Ok((open, false));
        }
        diesel::delete(conversations::table.find(recipient)).execute(conn)?;
        diesel::insert_into(conversations::table)
            .values((
                conversations::recipient.eq(recipient),
                conversations::id.eq(&candidate.id),
                conversations::origin.eq(&candidate.origin),
                conversations::expires_at.eq(candidate.expires_at),
            ))
            .execute(conn)?;
        Ok((candidate, true))
    })
}
