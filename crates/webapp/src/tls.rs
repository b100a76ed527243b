//! The webapp's HTTPS certificate: generated once, kept in the database, so every webapp on the
//! same database serves the same certificate and a restart changes nothing. An operator's
//! certificate (`POST /v1/certificates/external`, spec onprem-rest §8.11) replaces it: stored in
//! the same table, loaded by every webapp on start, and swapped in at once by the webapp that
//! received it, through [`CertResolver`].

use std::sync::{Arc, RwLock};

use base64::Engine;
use rustls::pki_types::pem::{self, PemObject, SectionKind};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
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
    let chain = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertError::Invalid(format!("unreadable certificate: {e}")))?;
    if chain.is_empty() {
        return Err(CertError::Invalid("no certificate found".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).map_err(|e| match e {
        pem::Error::NoItemsFound => CertError::Invalid("no private key found".into()),
        e => CertError::Invalid(format!("unreadable private key: {e}")),
    })?;
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

/// The PEM sections of `text` in order, decoded. Sections of a kind rustls does not know are
/// skipped; a known section that does not decode fails the whole text.
pub fn pem_sections(text: &str) -> Result<Vec<(SectionKind, Vec<u8>)>, CertError> {
    <(SectionKind, Vec<u8>)>::pem_slice_iter(text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertError::Invalid(format!("unreadable PEM: {e}")))
}

/// The label a private key of `kind` carries in PEM; `None` when `kind` is not a private key.
pub fn private_key_label(kind: SectionKind) -> Option<&'static str> {
    match kind {
        SectionKind::PrivateKey => Some("PRIVATE KEY"),
        SectionKind::RsaPrivateKey => Some("RSA PRIVATE KEY"),
        SectionKind::EcPrivateKey => Some("EC PRIVATE KEY"),
        _ => None,
    }
}

/// `der` as PEM text under `label`, base64 in lines of 64 characters (RFC 7468). The stored
/// certificate is kept in this canonical form rather than as the uploaded text.
pub fn to_pem(label: &str, der: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for (i, c) in encoded.chars().enumerate() {
        if i > 0 && i % 64 == 0 {
            pem.push('\n');
        }
        pem.push(c);
    }
    pem.push_str(&format!("\n-----END {label}-----\n"));
    pem
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
        let text = format!(
            "{}junk between sections\n{}{}",
            g.key_pem, g.cert_pem, g.ca_pem
        );
        let sections = pem_sections(&text).unwrap();
        let kinds: Vec<SectionKind> = sections.iter().map(|(kind, _)| *kind).collect();
        assert_eq!(
            kinds,
            [
                SectionKind::PrivateKey,
                SectionKind::Certificate,
                SectionKind::Certificate
            ]
        );
        // Re-encoding gives back what rcgen wrote (the same canonical form).
        assert_eq!(to_pem("CERTIFICATE", &sections[1].1), g.cert_pem);
        assert!(
            pem_sections("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n").is_err()
        );
    }
}
