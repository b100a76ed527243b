//! The registered business number and the credentials the network issued for it.

use diesel::prelude::*;

use crate::{schema::registration, Store, StoreError};

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

impl Store {
    pub async fn registration(&self) -> Result<Option<Registration>, StoreError> {
        self.run(|conn| {
            let row = registration::table
                .find(CURRENT)
                .select(Registration::as_select())
                .first(conn)
                .optional()?;
            Ok(row)
        })
        .await
    }

    /// Replaces the registration (a re-registration issues new credentials).
    pub async fn save_registration(&self, reg: Registration) -> Result<(), StoreError> {
        self.run(move |conn| {
            crate::dialect::write_transaction(conn, |conn| {
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
        })
        .await
    }
}
