//! Storing a received message together with its webhook.

use diesel::prelude::*;

use super::types::{InboundMessage, INBOUND, RECEIVED};
use crate::db::{insert_unless_duplicate, DbConnection};
use crate::tables::callbacks::{self, NewCallback};
use crate::StoreError;

/// Stores `msg` and queues `callback` (inside the caller's transaction); false, and nothing
/// written, when the message was stored before (the network re-sent it after a crash).
pub(crate) fn insert_inbound(
    conn: &mut DbConnection,
    msg: &InboundMessage,
    callback: &NewCallback,
) -> Result<bool, StoreError> {
    if !insert_unless_present(conn, msg)? {
        return Ok(false);
    }
    callbacks::insert(conn, callback, msg.received_ms)?;
    Ok(true)
}

/// Inserts a received message unless one with the same id exists; true when inserted. Folding
/// the existence check into the insert saves a statement per inbound message.
fn insert_unless_present(
    conn: &mut DbConnection,
    message: &InboundMessage,
) -> Result<bool, StoreError> {
    use crate::schema::messages::dsl::*;
    let row = (
        id.eq(&message.id),
        direction.eq(INBOUND),
        peer.eq(&message.from),
        msg_type.eq(&message.msg_type),
        payload.eq(&message.payload),
        status.eq(RECEIVED),
        created_ms.eq(message.received_ms),
        updated_ms.eq(message.received_ms),
    );
    let inserted: usize = insert_unless_duplicate!(conn, messages, row, id)?;
    Ok(inserted > 0)
}
