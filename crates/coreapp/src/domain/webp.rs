//! Just enough of the WebP container to check a sticker image (spec onprem-stickerpacks §7.3):
//! its size in pixels and whether it is animated. Only the first [`HEADER_BYTES`] are needed.

/// Bytes of the file the header parse reads.
pub const HEADER_BYTES: usize = 30;

#[derive(Debug, PartialEq, Eq)]
pub struct WebpInfo {
    pub width: u32,
    pub height: u32,
    pub animated: bool,
}

/// The size and animation flag of a WebP file from its first bytes; `None` when it is not WebP.
pub fn parse(header: &[u8]) -> Option<WebpInfo> {
    if header.len() < HEADER_BYTES || &header[0..4] != b"RIFF" || &header[8..12] != b"WEBP" {
        return None;
    }
    let chunk = &header[20..];
    match &header[12..16] {
        b"VP8 " => lossy(chunk),
        b"VP8L" => lossless(chunk),
        b"VP8X" => extended(chunk),
        _ => None,
    }
}

/// Lossy: a 3-byte frame tag, the start code `9d 01 2a`, then 14-bit width and height.
fn lossy(chunk: &[u8]) -> Option<WebpInfo> {
    if chunk[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let dimension = |at: usize| u32::from(u16::from_le_bytes([chunk[at], chunk[at + 1]]) & 0x3fff);
    Some(WebpInfo {
        width: dimension(6),
        height: dimension(8),
        animated: false,
    })
}

/// Lossless: the signature `2f`, then width − 1 and height − 1 in 14 bits each.
fn lossless(chunk: &[u8]) -> Option<WebpInfo> {
    if chunk[0] != 0x2f {
        return None;
    }
    let bits = u32::from_le_bytes([chunk[1], chunk[2], chunk[3], chunk[4]]);
    Some(WebpInfo {
        width: (bits & 0x3fff) + 1,
        height: ((bits >> 14) & 0x3fff) + 1,
        animated: false,
    })
}

/// Extended: flags (bit 1 = animation), 3 reserved bytes, canvas width − 1 and height − 1 in
/// 24 bits each.
fn extended(chunk: &[u8]) -> Option<WebpInfo> {
    let u24 = |at: usize| u32::from_le_bytes([chunk[at], chunk[at + 1], chunk[at + 2], 0]);
    Some(WebpInfo {
        width: u24(4) + 1,
        height: u24(7) + 1,
        animated: chunk[0] & 0x02 != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal extended-format WebP header of the given canvas.
    fn extended_header(width: u32, height: u32, animated: bool) -> Vec<u8> {
        let mut header = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0".to_vec();
        header.push(if animated { 0x02 } else { 0 });
        header.extend_from_slice(&[0, 0, 0]);
        header.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
        header.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
        header
    }

    fn info(width: u32, height: u32, animated: bool) -> Option<WebpInfo> {
        Some(WebpInfo {
            width,
            height,
            animated,
        })
    }

    #[test]
    fn extended_headers() {
        assert_eq!(
            parse(&extended_header(512, 512, false)),
            info(512, 512, false)
        );
        assert_eq!(
            parse(&extended_header(512, 300, true)),
            info(512, 300, true)
        );
    }

    #[test]
    fn lossy_and_lossless_headers() {
        let mut lossy = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0".to_vec();
        lossy.extend_from_slice(&[0, 0, 0, 0x9d, 0x01, 0x2a]);
        lossy.extend_from_slice(&512u16.to_le_bytes());
        lossy.extend_from_slice(&256u16.to_le_bytes());
        assert_eq!(parse(&lossy), info(512, 256, false));

        let mut lossless = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f".to_vec();
        let bits: u32 = 511 | (511 << 14);
        lossless.extend_from_slice(&bits.to_le_bytes());
        lossless.resize(HEADER_BYTES, 0);
        assert_eq!(parse(&lossless), info(512, 512, false));
    }

    #[test]
    fn other_files_are_not_webp() {
        assert_eq!(parse(b"GIF89a"), None);
        assert_eq!(parse(&[0u8; 64]), None);
        let mut png_in_riff = extended_header(512, 512, false);
        png_in_riff[12..16].copy_from_slice(b"PNG ");
        assert_eq!(parse(&png_in_riff), None);
    }
}
