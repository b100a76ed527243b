//! Secret values sealed at rest with a key the database does not hold: whoever reads the database
//! (a dump, a backup of it, a replica) learns nothing from a sealed value without the key.
//!
//! A sealed value is text, so it fits the columns that held the plain value: [`SEALED_PREFIX`],
//! then base64 of a random 96-bit nonce followed by the AES-256-GCM ciphertext and tag. The row's
//! place (table and key) is authenticated with it, so a sealed value copied into another row does
//! not open there. A value without the prefix was written before sealing existed; it is read as
//! it is and sealed again when the store starts.

use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::{engine::general_purpose::STANDARD, Engine};

use crate::StoreError;

/// Marks a sealed value; the number is the format's version, so a later format can be told apart.
pub const SEALED_PREFIX: &str = "wa-sealed:1:";
/// An AES-256 key.
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;

/// The 32-byte key secret values are sealed with.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretsKey([u8; KEY_BYTES]);

impl SecretsKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> SecretsKey {
        SecretsKey(Aes256Gcm::generate_key(OsRng).into())
    }

    /// Standard base64 of exactly 32 bytes, or 64 hex digits (what a secrets manager that draws
    /// from a chosen alphabet can generate); surrounding white space (a file's newline) is ignored.
    pub fn parse(text: &str) -> Result<SecretsKey, String> {
        let text = text.trim();
        let bytes = match hex_bytes(text) {
            Some(bytes) => bytes,
            None => STANDARD
                .decode(text)
                .map_err(|error| format!("not base64 ({error})"))?,
        };
        let length = bytes.len();
        let key: [u8; KEY_BYTES] = bytes
            .try_into()
            .map_err(|_| format!("{length} bytes once decoded, not {KEY_BYTES}"))?;
        Ok(SecretsKey(key))
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&self.0.into())
    }
}

/// Keys stay out of logs.
impl fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretsKey(<redacted>)")
    }
}

/// Seals with the current key; opens with the current key or, during a rotation, the previous one.
#[derive(Clone, Debug)]
pub struct Sealer {
    current: SecretsKey,
    previous: Option<SecretsKey>,
}

/// A stored value, opened.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Opened {
    /// Sealed with the current key: nothing to do.
    Current(String),
    /// Plain (written before sealing) or sealed with the previous key: to be sealed again.
    Stale(String),
}

impl Opened {
    pub(crate) fn into_plain(self) -> String {
        match self {
            Opened::Current(plain) | Opened::Stale(plain) => plain,
        }
    }
}

impl Sealer {
    pub fn new(current: SecretsKey, previous: Option<SecretsKey>) -> Sealer {
        Sealer { current, previous }
    }

    /// `plain` sealed for the row `place` (e.g. `certs/example.com/external`).
    pub(crate) fn seal(&self, place: &str, plain: &str) -> Result<String, StoreError> {
        let nonce = Aes256Gcm::generate_nonce(OsRng);
        let payload = Payload {
            msg: plain.as_bytes(),
            aad: place.as_bytes(),
        };
        let ciphertext = self
            .current
            .cipher()
            .encrypt(&nonce, payload)
            .map_err(|_| StoreError::Query(format!("cannot seal the secret {place}")))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        Ok(format!("{SEALED_PREFIX}{}", STANDARD.encode(sealed)))
    }

    /// The value stored in the row `place`, opened; `Sealed` when no configured key opens it.
    pub(crate) fn open(&self, place: &str, stored: &str) -> Result<Opened, StoreError> {
        let Some(body) = stored.strip_prefix(SEALED_PREFIX) else {
            return Ok(Opened::Stale(stored.to_string()));
        };
        let bytes = STANDARD.decode(body).map_err(|_| unreadable(place))?;
        if bytes.len() < NONCE_BYTES {
            return Err(unreadable(place));
        }
        if let Some(plain) = decrypt(&self.current, place, &bytes) {
            return Ok(Opened::Current(plain));
        }
        match self
            .previous
            .as_ref()
            .and_then(|previous| decrypt(previous, place, &bytes))
        {
            Some(plain) => Ok(Opened::Stale(plain)),
            None => Err(StoreError::Sealed(format!(
                "the stored secret {place} does not open with the configured secrets key \
                 (WA_SECRETS_KEY or WA_SECRETS_KEY_FILE){}: it was sealed with another key",
                if self.previous.is_some() {
                    " nor with WA_SECRETS_PREVIOUS_KEY"
                } else {
                    ""
                }
            ))),
        }
    }

    pub(crate) fn open_plain(&self, place: &str, stored: &str) -> Result<String, StoreError> {
        self.open(place, stored).map(Opened::into_plain)
    }

    /// The value to write back when `stored` is plain or sealed with the previous key; `None`
    /// when it is sealed with the current key already.
    pub(crate) fn reseal(&self, place: &str, stored: &str) -> Result<Option<String>, StoreError> {
        match self.open(place, stored)? {
            Opened::Current(_) => Ok(None),
            Opened::Stale(plain) => self.seal(place, &plain).map(Some),
        }
    }

    /// Reseals every row of a table that needs it. `rows` are (row key, stored value); `place`
    /// names a row's place; `write(key, stored, sealed)` stores the sealed value only if the row
    /// still holds `stored` (a compare-and-swap, so a concurrent change wins) and returns the rows
    /// it changed. Returns how many rows were resealed.
    pub(crate) fn reseal_rows<K>(
        &self,
        rows: Vec<(K, String)>,
        place: impl Fn(&K) -> String,
        mut write: impl FnMut(&K, &str, &str) -> Result<usize, StoreError>,
    ) -> Result<usize, StoreError> {
        let mut resealed = 0;
        for (key, stored) in rows {
            if let Some(sealed) = self.reseal(&place(&key), &stored)? {
                resealed += write(&key, &stored, &sealed)?;
            }
        }
        Ok(resealed)
    }
}

/// 64 hex digits as bytes; `None` for anything else.
fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if text.len() != 2 * KEY_BYTES || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn decrypt(key: &SecretsKey, place: &str, bytes: &[u8]) -> Option<String> {
    let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
    let payload = Payload {
        msg: ciphertext,
        aad: place.as_bytes(),
    };
    let plain = key
        .cipher()
        .decrypt(Nonce::from_slice(nonce), payload)
        .ok()?;
    String::from_utf8(plain).ok()
}

fn unreadable(place: &str) -> StoreError {
    StoreError::Sealed(format!(
        "the stored secret {place} starts with {SEALED_PREFIX} but is not a sealed value"
    ))
}

#[cfg(test)]
#[path = "seal_tests.rs"]
mod tests;
