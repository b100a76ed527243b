//! The registered business number and the credentials the network issued for it; the secret is
//! sealed at rest.

use diesel::prelude::*;

use crate::db::{write_transaction, DbConnection};
use crate::{schema::registration, Sealer, StoreError};

/// The single row's key: one coreapp installation registers one number.
const CURRENT: &str = "current";
/// Where the network secret lives, authenticated with it.
const SECRET_PLACE: &str = "registration/current/secret";

#[derive(Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = registration)]
pub struct Registration {
    /// The business's wa_id (country code + number, digits only).
    pub phone: String,
    pub vname: String,
    pub secret: String,
    pub registered_at: i64,
    /// Set (seconds) while the number is deregistered through the Cloud API: the credentials
    /// are kept, but no coreapp connects with them until the number is registered again.
    pub deregistered_at: Option<i64>,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("phone", &self.phone)
            .field("vname", &self.vname)
            .field("registered_at", &self.registered_at)
            .field("deregistered_at", &self.deregistered_at)
            .finish_non_exhaustive()
    }
}

pub(crate) fn find(
    conn: &mut DbConnection,
    sealer: &Sealer,
) -> Result<Option<Registration>, StoreError> {
    let Some(mut reg) = find_sealed(conn)? else {
        return Ok(None);
    };
    reg.secret = sealer.open_plain(SECRET_PLACE, &reg.secret)?;
    Ok(Some(reg))
}

/// Seals the secret when it is plain or sealed with the previous key; returns 1 if it did.
pub(crate) fn reseal(conn: &mut DbConnection, sealer: &Sealer) -> Result<usize, StoreError> {
    let Some(reg) = find_sealed(conn)? else {
        return Ok(0);
    };
    // Only if no re-registration replaced it since we read it.
    sealer.reseal_rows(
        vec![((), reg.secret)],
        |_| SECRET_PLACE.to_string(),
        |_, stored, sealed| {
            Ok(diesel::update(
                registration::table
                    .find(CURRENT)
                    .filter(registration::secret.eq(stored)),
            )
            .set(registration::secret.eq(sealed))
            .execute(conn)?)
        },
    )
}

fn find_sealed(conn: &mut DbConnection) -> Result<Option<Registration>, StoreError> {
    Ok(registration::table
        .find(CURRENT)
        .select(Registration::as_select())
        .first(conn)
        .optional()?)
}

/// Replaces the registration (a re-registration issues new credentials).
pub(crate) fn save(
    conn: &mut DbConnection,
    sealer: &Sealer,
    reg: &Registration,
) -> Result<(), StoreError> {
    let secret = sealer.seal(SECRET_PLACE, &reg.secret)?;
    write_transaction(conn, |conn| {
        diesel::delete(registration::table.find(CURRENT)).execute(conn)?;
        diesel::insert_into(registration::table)
            .values((
                registration::id.eq(CURRENT),
                registration::phone.eq(&reg.phone),
                registration::vname.eq(&reg.vname),
                registration::secret.eq(&secret),
                registration::registered_at.eq(reg.registered_at),
                registration::deregistered_at.eq(reg.deregistered_at),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Marks the number deregistered since `at` (seconds), or registered again with `None`; false
/// when there is no registration.
pub(crate) fn set_deregistered(
    conn: &mut DbConnection,
    at: Option<i64>,
) -> Result<bool, StoreError> {
    let changed = diesel::update(registration::table.find(CURRENT))
        .set(registration::deregistered_at.eq(at))
        .execute(conn)?;
    Ok(changed > 0)
}
