//! TLS material stored per host name and kind, shared by every webapp of an installation.

use std::fmt;

use diesel::prelude::*;

use crate::db::{find_or_insert, write_transaction, DbConnection};
use crate::{clock::unix_now, schema::certs, StoreError};

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
    hostname: &str,
    cert_type: &str,
    cert: StoredCert,
) -> Result<(), StoreError> {
    let row = CertInsert::stamped(hostname, cert_type, cert);
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
    hostname: &str,
    cert_type: &str,
    cert: StoredCert,
) -> Result<StoredCert, StoreError> {
    let row = CertInsert::stamped(hostname, cert_type, cert);
    find_or_insert(
        conn,
        |conn| find(conn, hostname, cert_type),
        |conn| {
            diesel::insert_into(certs::table)
                .values(&row)
                .execute(conn)?;
            Ok(row.to_cert())
        },
    )
}

pub(crate) fn find(
    conn: &mut DbConnection,
    hostname: &str,
    cert_type: &str,
) -> Result<Option<StoredCert>, StoreError> {
    let pems = certs::table
        .find((hostname, cert_type))
        .select(CertPems::as_select())
        .first(conn)
        .optional()?;
    Ok(pems.map(|pems| StoredCert {
        cert_pem: pems.cert_pem,
        key_pem: pems.key_pem,
        ca_pem: pems.ca_pem,
    }))
}

impl CertInsert {
    fn stamped(hostname: &str, cert_type: &str, cert: StoredCert) -> Self {
        CertInsert {
            hostname: hostname.to_string(),
            cert_type: cert_type.to_string(),
            cert_pem: cert.cert_pem,
            key_pem: cert.key_pem,
            ca_pem: cert.ca_pem,
            created_at: unix_now(),
        }
    }

    fn to_cert(&self) -> StoredCert {
        StoredCert {
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
