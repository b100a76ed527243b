//! Contact-check results, cached so re-checking a number within 7 days is free (as On-Prem).

use diesel::prelude::*;
use std::collections::HashMap;

use crate::db::{write_transaction, DbConnection};
use crate::{schema::contacts, StoreError};

/// How many cached contact checks have one answer.
#[derive(Queryable, Selectable)]
#[diesel(table_name = contacts)]
struct AnswerCount {
    on_whatsapp: bool,
    #[diesel(select_expression = diesel::dsl::count_star())]
    #[diesel(select_expression_type = diesel::dsl::CountStar)]
    count: i64,
}

/// One cached answer of a contact check.
#[derive(Queryable, Selectable)]
#[diesel(table_name = contacts)]
struct CachedContact {
    wa_id: String,
    on_whatsapp: bool,
}

/// Cached answers for `wa_ids` checked at or after `fresh_since` (unix seconds).
pub(crate) fn cached(
    conn: &mut DbConnection,
    wa_ids: Vec<String>,
    fresh_since: i64,
) -> Result<HashMap<String, bool>, StoreError> {
    let rows = contacts::table
        .filter(contacts::wa_id.eq_any(wa_ids))
        .filter(contacts::checked_at.ge(fresh_since))
        .select(CachedContact::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| (row.wa_id, row.on_whatsapp))
        .collect())
}

/// Records fresh answers, replacing older ones.
pub(crate) fn save(
    conn: &mut DbConnection,
    results: &[(String, bool)],
    checked_at: i64,
) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        for (wa_id, on_whatsapp) in results {
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
}

/// How many cached checks found a WhatsApp account and how many did not.
pub(crate) struct ContactCounts {
    pub(crate) on_whatsapp: i64,
    pub(crate) not_on_whatsapp: i64,
}

pub(crate) fn counts(conn: &mut DbConnection) -> Result<ContactCounts, StoreError> {
    let rows = contacts::table
        .group_by(contacts::on_whatsapp)
        .select(AnswerCount::as_select())
        .load(conn)?;
    let answering = |wanted: bool| {
        rows.iter()
            .filter(|row| row.on_whatsapp == wanted)
            .map(|row| row.count)
            .sum()
    };
    Ok(ContactCounts {
        on_whatsapp: answering(true),
        not_on_whatsapp: answering(false),
    })
}
