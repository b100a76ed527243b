//! TLS material stored per host name and kind, shared by every webapp of an installation. The
//! private key is sealed at rest; the certificates are public.

use std::fmt;

use diesel::prelude::*;

use crate::db::{find_or_insert, write_transaction, DbConnection};
use crate::{clock::unix_now, schema::certs, Sealer, StoreError};

#[derive(Clone, PartialEq, Eq)]
pub struct StoredCert {
    pub cert_pem: String,
    pub key_pem: String,
    pub ca_pem: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = certs)]
struct CertPems {
    cert_pem: String,
    key_pem: String,
    ca_pem: String,
}

#[derive(Insertable)]
#[diesel(table_name = certs)]
struct CertInsert {
    hostname: String,
    cert_type: String,
    cert_pem: String,
    key_pem: String,
    ca_pem: String,
    created_at: i64,
}

/// Stores `cert` for (hostname, cert_type), replacing any previous one.
pub(crate) fn replace(
    conn: &mut DbConnection,
    sealer: &Sealer,
    hostname: &str,
    cert_type: &str,
    cert: StoredCert,
) -> Result<(), StoreError> {
    let row = CertInsert::sealed(sealer, hostname, cert_type, cert)?;
    write_transaction(conn, |conn| {
        diesel::delete(certs::table.find((hostname, cert_type))).execute(conn)?;
        diesel::insert_into(certs::table)
            .values(&row)
            .execute(conn)?;
        Ok(())
    })
}

/// False when nothing was stored for (hostname, cert_type).
pub(crate) fn delete(
    conn: &mut DbConnection,
    hostname: &str,
    cert_type: &str,
) -> Result<bool, StoreError> {
    Ok(diesel::delete(certs::table.find((hostname, cert_type))).execute(conn)? > 0)
}

/// Stores `cert` unless one is stored for (hostname, cert_type) already; returns the stored one.
pub(crate) fn insert_if_absent(
    conn: &mut DbConnection,
    sealer: &Sealer,
    hostname: &str,
    cert_type: &str,
    cert: StoredCert,
) -> Result<StoredCert, StoreError> {
    let row = CertInsert::sealed(sealer, hostname, cert_type, cert)?;
    let stored = find_or_insert(
        conn,
        |conn| find_sealed(conn, hostname, cert_type),
        |conn| {
            diesel::insert_into(certs::table)
                .values(&row)
                .execute(conn)?;
            Ok(row.pems())
        },
    )?;
    stored.opened(sealer, hostname, cert_type)
}

pub(crate) fn find(
    conn: &mut DbConnection,
    sealer: &Sealer,
    hostname: &str,
    cert_type: &str,
) -> Result<Option<StoredCert>, StoreError> {
    find_sealed(conn, hostname, cert_type)?
        .map(|pems| pems.opened(sealer, hostname, cert_type))
        .transpose()
}

/// Seals every private key stored plain or with the previous key; returns how many.
pub(crate) fn reseal(conn: &mut DbConnection, sealer: &Sealer) -> Result<usize, StoreError> {
    let rows: Vec<((String, String), String)> = certs::table
        .select(((certs::hostname, certs::cert_type), certs::key_pem))
        .load(conn)?;
    // Only if nobody replaced the certificate since we read it.
    sealer.reseal_rows(
        rows,
        |(hostname, cert_type)| place(hostname, cert_type),
        |(hostname, cert_type), stored, sealed| {
            Ok(diesel::update(
                certs::table
                    .find((hostname, cert_type))
                    .filter(certs::key_pem.eq(stored)),
            )
            .set(certs::key_pem.eq(sealed))
            .execute(conn)?)
        },
    )
}

fn find_sealed(
    conn: &mut DbConnection,
    hostname: &str,
    cert_type: &str,
) -> Result<Option<CertPems>, StoreError> {
    Ok(certs::table
        .find((hostname, cert_type))
        .select(CertPems::as_select())
        .first(conn)
        .optional()?)
}

/// Where a private key lives, authenticated with it.
fn place(hostname: &str, cert_type: &str) -> String {
    format!("certs/{hostname}/{cert_type}")
}

impl CertPems {
    fn opened(
        self,
        sealer: &Sealer,
        hostname: &str,
        cert_type: &str,
    ) -> Result<StoredCert, StoreError> {
        Ok(StoredCert {
            key_pem: sealer.open_plain(&place(hostname, cert_type), &self.key_pem)?,
            cert_pem: self.cert_pem,
            ca_pem: self.ca_pem,
        })
    }
}

impl CertInsert {
    /// The row to write: `cert` with its private key sealed.
    fn sealed(
        sealer: &Sealer,
        hostname: &str,
        cert_type: &str,
        cert: StoredCert,
    ) -> Result<Self, StoreError> {
        Ok(CertInsert {
            hostname: hostname.to_string(),
            cert_type: cert_type.to_string(),
            key_pem: sealer.seal(&place(hostname, cert_type), &cert.key_pem)?,
            cert_pem: cert.cert_pem,
            ca_pem: cert.ca_pem,
            created_at: unix_now(),
        })
    }

    fn pems(&self) -> CertPems {
        CertPems {
            cert_pem: self.cert_pem.clone(),
            key_pem: self.key_pem.clone(),
            ca_pem: self.ca_pem.clone(),
        }
    }
}

/// Private keys stay out of logs.
impl fmt::Debug for StoredCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCert")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .field("ca_pem", &self.ca_pem)
            .finish()
    }
}
