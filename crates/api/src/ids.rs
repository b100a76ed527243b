//! Message ids in the On-Prem shape (spec onprem-messaging §1.4): `gB…` for messages the business
//! sends, `AB…` for messages it receives. Base64url of
//! `[0x80 sent | 0x00 received] 0x11 [len] [BCD partner number] 0x02 [k] [k random bytes]`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// A new id for a message to `partner` (digits).
pub fn outbound_message_id(partner: &str) -> String {
    message_id(0x80, partner, 9)
}

/// A new id for a message received from `partner` (digits).
pub fn inbound_message_id(partner: &str) -> String {
    message_id(0x00, partner, 16)
}

fn message_id(direction: u8, partner: &str, random_len: usize) -> String {
    let bcd = bcd(partner);
    let padded = partner.len() % 2 == 1;
    let mut raw = vec![
        direction,
        0x11,
        (bcd.len() as u8) | if padded { 0x80 } else { 0 },
    ];
    raw.extend_from_slice(&bcd);
    raw.push(0x02);
    raw.push(random_len as u8);
    raw.extend((0..random_len).map(|_| rand::random::<u8>()));
    URL_SAFE_NO_PAD.encode(raw)
}

/// Two digits per byte, high nibble first; an odd count ends in 0xF.
fn bcd(digits: &str) -> Vec<u8> {
    let nibbles: Vec<u8> = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .take(30)
        .map(|b| b - b'0')
        .collect();
    nibbles
        .chunks(2)
        .map(|pair| (pair[0] << 4) | pair.get(1).copied().unwrap_or(0x0f))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_ids_look_like_the_originals() {
        let id = outbound_message_id("79944067536");
        assert!(id.starts_with("gB"), "{id}");
        assert_eq!(id.len(), 27);
        let raw = URL_SAFE_NO_PAD.decode(&id).unwrap();
        assert_eq!(
            &raw[..9],
            &[0x80, 0x11, 0x86, 0x79, 0x94, 0x40, 0x67, 0x53, 0x6f]
        );
        assert_ne!(id, outbound_message_id("79944067536"));
    }

    #[test]
    fn inbound_ids_start_with_ab() {
        let id = inbound_message_id("16315551234");
        assert!(id.starts_with("AB"), "{id}");
        assert!(id.len() <= 64);
    }
}
