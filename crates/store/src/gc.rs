//! Message garbage collection (`PUT /v1/services/message/gc`, spec onprem-messaging §3.4).

use diesel::prelude::*;

use crate::messages::PENDING;
use crate::schema::messages;
use crate::{Store, StoreError};

impl Store {
    /// Deletes up to `limit` messages last updated before `cutoff_ms`; pending outbound messages
    /// are kept whatever their age (they have not reached the network yet). Returns how many
    /// went; call again until it returns less than `limit`.
    pub async fn delete_old_messages(
        &self,
        cutoff_ms: i64,
        limit: i64,
    ) -> Result<usize, StoreError> {
        self.run(move |conn| {
            crate::dialect::write_transaction(conn, |conn| {
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
                Ok(
                    diesel::delete(messages::table.filter(messages::id.eq_any(ids)))
                        .execute(conn)?,
                )
            })
        })
        .await
    }
}
