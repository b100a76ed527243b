//! The registered business number and the credentials the network issued for it.

use diesel::prelude::*;

use crate::db::{write_transaction, DbConnection};
use crate::{schema::registration, StoreError};

/// The single row's key: one coreapp installation registers one number.
const CURRENT: &str = "current";

#[derive(Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = registration)]
pub struct Registration {
    /// The business's wa_id (country code + number, digits only).
    pub phone: String,
    pub vname: String,
    pub secret: String,
    pub registered_at: i64,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("phone", &self.phone)
            .field("vname", &self.vname)
            .field("registered_at", &self.registered_at)
            .finish_non_exhaustive()
    }
}

pub(crate) fn find(conn: &mut DbConnection) -> Result<Option<Registration>, StoreError> {
    Ok(registration::table
        .find(CURRENT)
        .select(Registration::as_select())
        .first(conn)
        .optional()?)
}

/// Replaces the registration (a re-registration issues new credentials).
pub(crate) fn save(conn: &mut DbConnection, reg: &Registration) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        diesel::delete(registration::table.find(CURRENT)).execute(conn)?;
        diesel::insert_into(registration::table)
            .values((
                registration::id.eq(CURRENT),
                registration::phone.eq(&reg.phone),
                registration::vname.eq(&reg.vname),
                registration::secret.eq(&reg.secret),
                registration::registered_at.eq(reg.registered_at),
            ))
            .execute(conn)?;
        Ok(())
    })
}
