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
