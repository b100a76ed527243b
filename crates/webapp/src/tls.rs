//! The webapp's HTTPS certificate: generated once, kept in the database, so every webapp on the
//! same database serves the same certificate and a restart changes nothing. An operator's
//! certificate (`POST /v1/certificates/external`, spec onprem-rest §8.11) replaces it: stored in
//! the same table, loaded by every webapp on start, and swapped in at once by the webapp that
//! received it, through [`CertResolver`].

use std::sync::{Arc, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use wa_common::tls::generate_self_signed;
use wa_store::{Store, StoredCert};

/// `certs.cert_type` of the generated certificate.
const SELF_SIGNED: &str = "self_signed";
/// `certs.cert_type` of the certificate an operator uploaded.
pub const EXTERNAL: &str = "external";

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error(transparent)]
    Store(#[from] wa_store::StoreError),
    #[error(transparent)]
    Tls(#[from] wa_common::tls::TlsError),
    #[error("{0}")]
    Invalid(String),
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

/// The certificate to serve: the operator's when one is stored and usable, else the generated
/// one. An unusable operator certificate is logged and skipped, so the API stays reachable to
/// upload a better one (the original refused to start and needed manual repair).
pub async fn load_serving(store: &Store, server_name: &str) -> Result<StoredCert, CertError> {
    if let Some(external) = store.find_cert(server_name, EXTERNAL).await? {
        match certified_key(&external) {
            Ok(_) => return Ok(external),
            Err(e) => tracing::error!(
                "the uploaded certificate for '{server_name}' is unusable ({e}); serving the generated one"
            ),
        }
    }
    load_or_create(store, server_name).await
}

/// The leaf, then its CA chain, with the private key; fails when the key does not match.
pub fn certified_key(cert: &StoredCert) -> Result<CertifiedKey, CertError> {
    let chain_pem = format!("{}\n{}", cert.cert_pem.trim_end(), cert.ca_pem);
    let chain = rustls_pemfile::certs(&mut chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertError::Invalid(format!("unreadable certificate: {e}")))?;
    if chain.is_empty() {
        return Err(CertError::Invalid("no certificate found".into()));
    }
    let key = rustls_pemfile::private_key(&mut cert.key_pem.as_bytes())
        .map_err(|e| CertError::Invalid(format!("unreadable private key: {e}")))?
        .ok_or_else(|| CertError::Invalid("no private key found".into()))?;
    let signing_key = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| CertError::Invalid(format!("unsupported private key: {e}")))?;
    let certified = CertifiedKey::new(chain, signing_key);
    certified.keys_match().map_err(|e| {
        CertError::Invalid(format!(
            "the private key does not match the certificate: {e}"
        ))
    })?;
    Ok(certified)
}

/// Hands every TLS handshake the current certificate; [`CertResolver::set`] swaps it without
/// restarting the listener.
#[derive(Debug)]
pub struct CertResolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertResolver {
    pub fn new(key: CertifiedKey) -> Self {
        CertResolver {
            current: RwLock::new(Arc::new(key)),
        }
    }

    pub fn set(&self, key: CertifiedKey) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(key);
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}

/// The rustls configuration serving whatever `resolver` currently holds.
pub fn rustls_config(resolver: Arc<CertResolver>) -> Result<rustls::ServerConfig, CertError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(wa_common::tls::TlsError::from)?
        .with_no_client_auth()
        .with_cert_resolver(resolver))
}

/// The PEM blocks of `text` in order, each with its label (`PRIVATE KEY`, `CERTIFICATE`, ...).
pub fn pem_sections(text: &str) -> Vec<(String, String)> {
    let mut sections = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let block = &rest[start..];
        let label_end = block["-----BEGIN ".len()..]
            .find("-----")
            .map(|i| i + "-----BEGIN ".len());
        let Some(label_end) = label_end else { break };
        let label = block["-----BEGIN ".len()..label_end].to_string();
        let end_marker = format!("-----END {label}-----");
        let Some(end) = block.find(&end_marker) else {
            break;
        };
        let end = end + end_marker.len();
        sections.push((label, format!("{}\n", &block[..end])));
        rest = &block[end..];
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_material_resolves_and_sections_split() {
        let g = generate_self_signed("localhost").unwrap();
        let stored = StoredCert {
            cert_pem: g.cert_pem.clone(),
            key_pem: g.key_pem.clone(),
            ca_pem: g.ca_pem.clone(),
        };
        certified_key(&stored).unwrap();
        let other = generate_self_signed("localhost").unwrap();
        let mismatched = StoredCert {
            key_pem: other.key_pem,
            ..stored
        };
        assert!(certified_key(&mismatched).is_err());
        let text = format!("{}{}{}", g.key_pem, g.cert_pem, g.ca_pem);
        let labels: Vec<String> = pem_sections(&text).into_iter().map(|(l, _)| l).collect();
        assert_eq!(labels, ["PRIVATE KEY", "CERTIFICATE", "CERTIFICATE"]);
    }
}
