//! The webapp's HTTPS certificate: generated once, kept in the database, so every webapp on the
//! same database serves the same certificate and a restart changes nothing.

use wa_common::tls::{generate_self_signed, server_config};
use wa_store::{Store, StoredCert};

/// `certs.cert_type` of the generated certificate.
const SELF_SIGNED: &str = "self_signed";

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error(transparent)]
    Store(#[from] wa_store::StoreError),
    #[error(transparent)]
    Tls(#[from] wa_common::tls::TlsError),
}

/// Loads the stored certificate for `server_name`, generating and storing it on first start.
/// When two webapps start together the first one to store wins and both serve its certificate.
pub async fn load_or_create(store: &Store, server_name: &str) -> Result<StoredCert, CertError> {
    if let Some(stored) = store.find_cert(server_name, SELF_SIGNED).await? {
        return Ok(stored);
    }
    let generated = generate_self_signed(server_name)?;
    tracing::info!("generated a CA and a server certificate for '{server_name}'");
    let candidate = StoredCert {
        cert_pem: generated.cert_pem,
        key_pem: generated.key_pem,
        ca_pem: generated.ca_pem,
    };
    Ok(store
        .insert_cert_if_absent(server_name, SELF_SIGNED, candidate)
        .await?)
}

/// The rustls configuration serving `cert` with its CA in the chain.
pub fn rustls_config(cert: &StoredCert) -> Result<rustls::ServerConfig, CertError> {
    let chain = format!("{}\n{}", cert.cert_pem.trim_end(), cert.ca_pem);
    Ok(server_config(&chain, &cert.key_pem)?)
}
