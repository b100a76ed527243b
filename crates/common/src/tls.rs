//! TLS material: the self-signed CA and server certificate the webapp creates on first start
//! (spec onprem-rest §2.1), and the rustls server configuration built from PEM.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("invalid PEM: {0}")]
    Pem(String),
    #[error("rustls rejected the certificate or key: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A CA and a server certificate signed by it, all PEM.
#[derive(Debug, Clone)]
pub struct GeneratedCert {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

const VALIDITY_DAYS: i64 = 365;

/// Generates a CA like the original's "Enterprise Client - AutoGen CA" and a server certificate
/// for `server_name` (plus the loopback names when it is `localhost`), valid for one year.
pub fn generate_self_signed(server_name: &str) -> Result<GeneratedCert, TlsError> {
    let now = time_now();
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name =
        onprem_dn("Enterprise Client - AutoGen CA", "WhatsApp Business API CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = now;
    ca_params.not_after = now + days(VALIDITY_DAYS);
    let ca_cert = ca_params.self_signed(&ca_key)?;

    let mut names = vec![server_name.to_string()];
    if server_name == "localhost" {
        names.extend(["127.0.0.1".to_string(), "::1".to_string()]);
    }
    let mut params = CertificateParams::new(names)?;
    params.distinguished_name = onprem_dn("Enterprise Client", server_name);
    params.not_before = now;
    params.not_after = now + days(VALIDITY_DAYS);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &ca_cert, &ca_key)?;
    Ok(GeneratedCert {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn onprem_dn(unit: &str, common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "US");
    dn.push(
        DnType::OrganizationName,
        "WhatsApp Business API (open source)",
    );
    dn.push(DnType::OrganizationalUnitName, unit);
    dn.push(DnType::CommonName, common_name);
    dn
}

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

fn days(n: i64) -> time::Duration {
    time::Duration::days(n)
}

/// Installs ring as the process-wide rustls provider (needed once when several providers could
/// be linked in).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A rustls server configuration from a PEM chain (leaf first, then CA) and a PEM private key.
pub fn server_config(chain_pem: &str, key_pem: &str) -> Result<rustls::ServerConfig, TlsError> {
    let chain = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem(e.to_string()))?;
    if chain.is_empty() {
        return Err(TlsError::Pem("no certificate found".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::Pem("no private key found".into()),
        e => TlsError::Pem(e.to_string()),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_material_builds_a_server_config() {
        let generated = generate_self_signed("localhost").unwrap();
        assert!(generated.ca_pem.contains("BEGIN CERTIFICATE"));
        let chain = format!("{}{}", generated.cert_pem, generated.ca_pem);
        server_config(&chain, &generated.key_pem).unwrap();
    }

    #[test]
    fn garbage_is_rejected() {
        assert!(server_config("not pem", "not pem").is_err());
    }
}
