//! Verified-name certificates: what `POST /control/certs` mints and `RequestCode` presents.
//!
//! The certificate is opaque to clients. Here it is base64 of `{"vname","nonce","hmac"}`, the
//! HMAC keyed with a secret drawn the first time the network starts: only this wanet can mint
//! one. The secret is part of the network's stored state, so a certificate minted before a
//! restart still registers after it; a network started on empty state has a new one.

use crate::base::ids::hex;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::Rng;
use ring::hmac;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct CertBody {
    vname: String,
    nonce: String,
    hmac: String,
}

pub struct CertAuthority {
    key: hmac::Key,
    secret: [u8; 32],
}

impl CertAuthority {
    pub fn new() -> Self {
        Self::from_secret(rand::rngs::OsRng.gen())
    }

    pub fn from_secret(secret: [u8; 32]) -> Self {
        CertAuthority {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            secret,
        }
    }

    /// The signing secret in hex, as stored.
    pub fn secret_hex(&self) -> String {
        hex(&self.secret)
    }

    /// The authority of a stored secret; `None` when it is not 32 bytes of hex.
    pub fn from_hex(text: &str) -> Option<Self> {
        let secret: [u8; 32] = decode_hex(text)?.try_into().ok()?;
        Some(Self::from_secret(secret))
    }

    /// A certificate for the display name `vname`.
    pub fn mint(&self, vname: &str) -> String {
        let nonce: [u8; 12] = rand::thread_rng().gen();
        let nonce = hex(&nonce);
        let body = CertBody {
            vname: vname.to_string(),
            hmac: self.sign(vname, &nonce),
            nonce,
        };
        // Serializing a struct of strings cannot fail; an empty certificate would simply not verify.
        STANDARD.encode(serde_json::to_vec(&body).unwrap_or_default())
    }

    /// The display name inside `cert`, or `None` when this wanet did not mint it.
    pub fn verify(&self, cert: &str) -> Option<String> {
        let bytes = STANDARD.decode(cert.trim()).ok()?;
        let body: CertBody = serde_json::from_slice(&bytes).ok()?;
        let tag = decode_hex(&body.hmac)?;
        hmac::verify(&self.key, &signed_text(&body.vname, &body.nonce), &tag).ok()?;
        Some(body.vname)
    }

    fn sign(&self, vname: &str, nonce: &str) -> String {
        hex(hmac::sign(&self.key, &signed_text(vname, nonce)).as_ref())
    }
}

/// The signed bytes; the separator keeps ("ab","c") and ("a","bc") apart.
fn signed_text(vname: &str, nonce: &str) -> Vec<u8> {
    format!("{nonce}\n{vname}").into_bytes()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_certificates_verify_and_carry_the_vname() {
        let ca = CertAuthority::new();
        let cert = ca.mint("Acme Inc");
        assert_eq!(ca.verify(&cert).as_deref(), Some("Acme Inc"));
    }

    #[test]
    fn foreign_or_tampered_certificates_do_not_verify() {
        let ca = CertAuthority::new();
        let other = CertAuthority::new();
        assert_eq!(ca.verify(&other.mint("Acme Inc")), None);
        assert_eq!(ca.verify("not base64 at all!"), None);
        assert_eq!(ca.verify(&STANDARD.encode("{}")), None);

        let cert = ca.mint("Acme Inc");
        let bytes = STANDARD.decode(&cert).unwrap();
        let mut body: CertBody = serde_json::from_slice(&bytes).unwrap();
        body.vname = "Evil Corp".into();
        let forged = STANDARD.encode(serde_json::to_vec(&body).unwrap());
        assert_eq!(ca.verify(&forged), None);
    }

    #[test]
    fn odd_hex_is_rejected() {
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("zz"), None);
        assert_eq!(decode_hex("0aff"), Some(vec![0x0a, 0xff]));
    }
}
