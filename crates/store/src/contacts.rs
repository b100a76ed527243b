//! Contact-check results, cached so re-checking a number within 7 days is free (as On-Prem).

use diesel::prelude::*;
use std::collections::HashMap;

use crate::{schema::contacts, Store, StoreError};

/// One cached answer of a contact check.
#[derive(Queryable, Selectable)]
#[diesel(table_name = contacts)]
struct CachedContact {
    wa_id: String,
    on_whatsapp: bool,
}

impl Store {
    /// Cached answers for `wa_ids` checked at or after `fresh_since` (unix seconds).
    pub async fn cached_contacts(
        &self,
        wa_ids: Vec<String>,
        fresh_since: i64,
    ) -> Result<HashMap<String, bool>, StoreError> {
        self.run(move |conn| {
            let rows = contacts::table
                .filter(contacts::wa_id.eq_any(wa_ids))
                .filter(contacts::checked_at.ge(fresh_since))
                .select(CachedContact::as_select())
                .load(conn)?;
            Ok(rows
                .into_iter()
                .map(|row| (row.wa_id, row.on_whatsapp))
                .collect())
        })
        .await
    }

    /// Records fresh answers, replacing older ones.
    pub async fn save_contacts(
        &self,
        results: Vec<(String, bool)>,
        checked_at: i64,
    ) -> Result<(), StoreError> {
        self.run(move |conn| {
            crate::dialect::write_transaction(conn, |conn| {
                for (wa_id, on_whatsapp) in &results {
                    diesel::delete(contacts::table.find(wa_id)).execute(conn)?;
                    diesel::insert_into(contacts::table)
                        .values((
                            contacts::wa_id.eq(wa_id),
                            contacts::on_whatsapp.eq(on_whatsapp),
                            contacts::checked_at.eq(checked_at),
                        ))
                        .execute(conn)?;
                }
                Ok(())
            })
        })
        .await
        .or_else(|err| match err {
            // Another check of the same number committed first; its answer is as fresh as ours.
            StoreError::Conflict => Ok(()),
            other => Err(other),
        })
    }
}
