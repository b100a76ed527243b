//! TLS to the database with Meta's variables: `WA_DB_SSL_CA` (the CA bundle that signed the
//! server's certificate), `WA_DB_SSL_CERT` / `WA_DB_SSL_KEY` (a client certificate, both or
//! neither) and `WA_DB_SSL_VERIFY` (1, the default: check the server's certificate; 0: encrypt
//! without checking it; PostgreSQL only).
//!
//! They become options of the connection URL that the client libraries read: libpq's `sslmode`,
//! `sslrootcert`, `sslcert`, `sslkey`, and for MySQL/MariaDB diesel's `ssl_ca`, `ssl_cert`,
//! `ssl_key`, which it hands to libmariadb as `MYSQL_OPT_SSL_*`. Any of those makes libmariadb ask
//! the server for TLS. diesel's `ssl_mode` is not used: libmariadb ignores it, so it cannot make
//! TLS mandatory; the store instead checks each new MySQL connection's `Ssl_cipher` and refuses
//! an unencrypted one (wa_store's `db::connection`).

use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct DbTlsSettings {
    /// PEM file of the CA(s) that signed the server certificate (`WA_DB_SSL_CA`); setting it turns
    /// TLS on.
    pub ca: Option<String>,
    /// Client certificate and key, PEM (`WA_DB_SSL_CERT`, `WA_DB_SSL_KEY`).
    pub cert: Option<String>,
    pub key: Option<String>,
    /// Check the server certificate against `ca` (`WA_DB_SSL_VERIFY`, default on).
    pub verify: Option<bool>,
}

impl DbTlsSettings {
    pub fn enabled(&self) -> bool {
        self.ca.is_some()
    }

    /// `scheme` is the engine's (`mysql`, `postgres`), `None` for SQLite or an explicit URL.
    pub(super) fn check(&self, scheme: Option<&str>, problems: &mut Vec<String>) {
        if self.enabled() && scheme.is_none() {
            problems.push("WA_DB_SSL_* apply to WA_DB_ENGINE=MYSQL or PGSQL only".into());
        }
        // diesel hands libmariadb the CA and nothing else; libmariadb then always checks the
        // server's chain against it, so "encrypt without checking" cannot be honoured.
        if scheme == Some("mysql") && self.verify == Some(false) {
            problems.push(
                "WA_DB_SSL_VERIFY=0 is not supported with MySQL: the server certificate is always checked against WA_DB_SSL_CA"
                    .into(),
            );
        }
        if self.cert.is_some() != self.key.is_some() {
            problems
                .push("WA_DB_SSL_CERT and WA_DB_SSL_KEY go together: set both or neither".into());
        }
        if !self.enabled() && (self.cert.is_some() || self.verify.is_some()) {
            problems.push(
                "WA_DB_SSL_CERT, WA_DB_SSL_KEY and WA_DB_SSL_VERIFY need WA_DB_SSL_CA".into(),
            );
        }
        for (name, path) in [
            ("WA_DB_SSL_CA", &self.ca),
            ("WA_DB_SSL_CERT", &self.cert),
            ("WA_DB_SSL_KEY", &self.key),
        ] {
            if let Some(path) = path {
                if !Path::new(path).is_file() {
                    problems.push(format!("{name} '{path}' is not a readable file"));
                }
            }
        }
    }

    /// Adds the TLS options for `scheme` (`mysql` or `postgres`) to the URL's query.
    pub(super) fn apply(&self, scheme: &str, url: &mut url::Url) {
        let Some(ca) = &self.ca else { return };
        let verify = self.verify.unwrap_or(true);
        let mut query = url.query_pairs_mut();
        if scheme == "postgres" {
            // verify-full also checks that the certificate names WA_DB_HOSTNAME.
            query.append_pair("sslmode", if verify { "verify-full" } else { "require" });
            query.append_pair("sslrootcert", ca);
            if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
                query
                    .append_pair("sslcert", cert)
                    .append_pair("sslkey", key);
            }
        } else {
            query.append_pair("ssl_ca", ca);
            if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
                query
                    .append_pair("ssl_cert", cert)
                    .append_pair("ssl_key", key);
            }
        }
    }
}
