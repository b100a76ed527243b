//! Contacts' identities (security codes, spec onprem-messaging §4.3): the latest one per contact
//! and whether the business acknowledged it.

use diesel::prelude::*;

use crate::db::{write_transaction, DbConnection};
use crate::{schema::contact_identities, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = contact_identities)]
pub struct ContactIdentity {
    pub wa_id: String,
    pub hash: String,
    /// When the identity was created, unix milliseconds (the API's `created_timestamp`).
    pub created_ms: i64,
    pub acknowledged: bool,
}

/// Records a contact's new identity (unacknowledged), replacing the previous one.
pub(crate) fn save(conn: &mut DbConnection, identity: &ContactIdentity) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        diesel::delete(contact_identities::table.find(&identity.wa_id)).execute(conn)?;
        diesel::insert_into(contact_identities::table)
            .values(identity)
            .execute(conn)?;
        Ok(())
    })
}

pub(crate) fn find(
    conn: &mut DbConnection,
    wa_id: &str,
) -> Result<Option<ContactIdentity>, StoreError> {
    Ok(contact_identities::table
        .find(wa_id)
        .select(ContactIdentity::as_select())
        .first(conn)
        .optional()?)
}

/// Acknowledges the contact's identity when `hash` is its latest one. False otherwise.
pub(crate) fn acknowledge(
    conn: &mut DbConnection,
    wa_id: &str,
    hash: &str,
) -> Result<bool, StoreError> {
    let updated = diesel::update(
        contact_identities::table
            .find(wa_id)
            .filter(contact_identities::hash.eq(hash)),
    )
    .set(contact_identities::acknowledged.eq(true))
    .execute(conn)?;
    Ok(updated > 0)
}
