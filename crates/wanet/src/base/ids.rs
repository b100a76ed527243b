//! Identifiers and secrets the network hands out.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::Rng;
use std::sync::atomic::{AtomicU64, Ordering};

/// Header of an inbound id in the layout observed on real ids (spec onprem-messaging §1.4):
/// "received" flag, a constant, and the length byte of an 11-digit number. It makes every id
/// start with `ABGG` like the ones integrations have seen.
const INBOUND_HEADER: [u8; 3] = [0x00, 0x11, 0x86];

static INBOUND_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new inbound message id: `ABGG` followed by base64url, 36 characters like the later
/// On-Prem ids. A process-wide counter makes it unique; random bytes make it unguessable and
/// distinct across restarts.
pub fn inbound_message_id() -> String {
    let counter = INBOUND_COUNTER.fetch_add(1, Ordering::Relaxed);
    let random: [u8; 16] = rand::thread_rng().gen();
    let mut bytes = Vec::with_capacity(27);
    bytes.extend_from_slice(&INBOUND_HEADER);
    bytes.extend_from_slice(&counter.to_be_bytes());
    bytes.extend_from_slice(&random);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A 6-digit registration code (no leading zero, so nobody wonders whether it was dropped).
pub fn registration_code() -> String {
    rand::thread_rng().gen_range(100_000..1_000_000).to_string()
}

/// A credential secret: 32 hex characters from the OS RNG.
pub fn secret() -> String {
    let bytes: [u8; 16] = rand::rngs::OsRng.gen();
    hex(&bytes)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Seconds since the Unix epoch, the unit of every timestamp on the wire.
pub fn now_epoch() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_ids_have_the_on_prem_shape_and_are_unique() {
        let a = inbound_message_id();
        let b = inbound_message_id();
        assert!(a.starts_with("ABGG"), "{a}");
        assert_eq!(a.len(), 36);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(a, b);
    }

    #[test]
    fn codes_and_secrets_have_their_sizes() {
        let code = registration_code();
        assert_eq!(code.len(), 6);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        let s = secret();
        assert_eq!(s.len(), 32);
        assert!(s.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
