//! The counts of `GET /v1/stats/db`, gathered from the tables they concern.

use crate::db::DbConnection;
use crate::tables::{callbacks, contacts, messages};
use crate::StoreError;

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

/// Each count is one indexed or grouped `COUNT(*)`.
pub(crate) fn db_counts(conn: &mut DbConnection) -> Result<DbCounts, StoreError> {
    let contacts = contacts::counts(conn)?;
    Ok(DbCounts {
        contacts_on_whatsapp: contacts.on_whatsapp,
        contacts_not_on_whatsapp: contacts.not_on_whatsapp,
        messages_by_type: messages::type_counts(conn)?,
        message_receipts: messages::receipt_count(conn)?,
        pending_callbacks: callbacks::count(conn)?,
        pending_messages: messages::pending_count(conn)?,
    })
}

/// Rows in every table of the schema, by table name in schema order, for
/// `GET /v1/stats/db/internal`. One `COUNT(*)` each, so it costs what `db_counts` costs.
pub(crate) fn table_rows(conn: &mut DbConnection) -> Result<Vec<(&'static str, i64)>, StoreError> {
    use crate::schema::*;
    use diesel::prelude::*;
    macro_rules! count_each {
        ($($table:ident),* $(,)?) => {
            vec![$((
                stringify!($table),
                $table::table.count().get_result::<i64>(conn)?,
            )),*]
        };
    }
    Ok(count_each!(
        users,
        tokens,
        certs,
        secrets,
        stickerpacks,
        stickers,
        messages,
        callbacks,
        blobs,
        contacts,
        contact_identities,
        conversations,
        registration,
        config_values,
        media,
        cluster_nodes,
        cluster_lease,
        shard_assignments,
    ))
}
