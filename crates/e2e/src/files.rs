//! A tiny HTTP file server standing in for a media provider's CDN, so sends by `link` are
//! fetched from something real on loopback (the test machine has no Internet).

use base64::Engine;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

/// One file the server answers: its path (e.g. `/a.jpg`), Content-Type and bytes.
pub struct ServedFile {
    pub path: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

impl ServedFile {
    pub fn new(path: &str, mime: &str, bytes: Vec<u8>) -> Self {
        ServedFile {
            path: path.to_string(),
            mime: mime.to_string(),
            bytes,
        }
    }
}

/// Serves `files` on a free loopback port until the process ends; with `basic`, every request
/// must carry those Basic credentials (401 otherwise). Unknown paths are 404. Returns the base
/// URL (`http://127.0.0.1:<port>`).
pub fn serve_files(files: Vec<ServedFile>, basic: Option<(&str, &str)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let expected_auth = basic.map(|(user, password)| {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("authorization: basic {token}").to_lowercase()
    });
    let files = Arc::new(files);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (files, expected_auth) = (files.clone(), expected_auth.clone());
            std::thread::spawn(move || answer(stream, &files, expected_auth.as_deref()));
        }
    });
    base
}

fn answer(mut stream: TcpStream, files: &[ServedFile], expected_auth: Option<&str>) {
    let head = read_head(&mut stream).to_lowercase();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let authorized = expected_auth.is_none_or(|auth| head.lines().any(|l| l.trim() == auth));
    let file = files.iter().find(|f| f.path.to_lowercase() == path);
    let reply = match file {
        _ if !authorized => status_only("401 Unauthorized"),
        None => status_only("404 Not Found"),
        Some(file) => {
            let mut reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                file.mime,
                file.bytes.len()
            )
            .into_bytes();
            reply.extend_from_slice(&file.bytes);
            reply
        }
    };
    let _ = stream.write_all(&reply);
}

fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn status_only(status: &str) -> Vec<u8> {
    format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").into_bytes()
}

/// Lower-case hex SHA-256, computed independently of the code under test.
pub fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Standard base64, as the API and wanet's control API carry bytes in JSON.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A WebP file of `len` bytes whose extended-format (`VP8X`) header declares a `width`×`height`
/// canvas, animated or not: what the sticker image rules look at (spec onprem-stickerpacks
/// §7.3). The bytes after the header are filler; `seed` makes files differ.
pub fn webp(width: u32, height: u32, animated: bool, len: usize, seed: u8) -> Vec<u8> {
    let mut file = b"RIFF".to_vec();
    let riff_size = u32::try_from(len.saturating_sub(8)).unwrap_or(u32::MAX);
    file.extend_from_slice(&riff_size.to_le_bytes());
    file.extend_from_slice(b"WEBPVP8X");
    file.extend_from_slice(&10u32.to_le_bytes());
    file.extend_from_slice(&[if animated { 0x02 } else { 0 }, 0, 0, 0]);
    file.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    file.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    let filler = (file.len()..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed));
    file.extend(filler);
    file
}

/// A JPEG file of `len` bytes whose header (`SOI`, a JFIF `APP0`, a baseline `SOF0` frame)
/// declares a `width`×`height` image: what the profile-photo check reads. The bytes after the
/// header are filler, ended by `EOI`.
pub fn jpeg(width: u16, height: u16, len: usize) -> Vec<u8> {
    let mut file = vec![0xFF, 0xD8];
    file.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
    file.extend_from_slice(b"JFIF\0");
    file.extend_from_slice(&[1, 1, 0, 0, 1, 0, 1, 0, 0]);
    file.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 8]);
    file.extend_from_slice(&height.to_be_bytes());
    file.extend_from_slice(&width.to_be_bytes());
    file.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    let filler = (file.len()..len.saturating_sub(2)).map(|i| (i as u8).wrapping_mul(7) | 1);
    file.extend(filler);
    file.extend_from_slice(&[0xFF, 0xD9]);
    file
}

/// A complete PNG of `width`×`height` red pixels (8-bit RGB), its image data in stored
/// (uncompressed) deflate blocks, so no compressor is needed to make it.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    // Each row: filter type 0, then the pixels.
    let row: Vec<u8> = std::iter::once(0)
        .chain([0xFF, 0, 0].repeat(width as usize))
        .collect();
    let raw = row.repeat(height as usize);
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut file = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(&mut file, b"IHDR", &ihdr);
    png_chunk(&mut file, b"IDAT", &zlib_stored(&raw));
    png_chunk(&mut file, b"IEND", &[]);
    file
}

fn png_chunk(file: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    file.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
    let start = file.len();
    file.extend_from_slice(kind);
    file.extend_from_slice(data);
    let crc = crc32(&file[start..]);
    file.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream of stored blocks (at most 65,535 bytes each).
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = u16::try_from(block.len()).unwrap();
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// IEEE CRC-32, bit by bit (fixtures are small).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
