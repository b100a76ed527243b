//! A streaming reader of `multipart/form-data` bodies (RFC 7578), enough for Cloud's media
//! upload: small text fields are read whole (bounded), the file part is handed on chunk by
//! chunk, so a 100 MB upload is never held in memory.

use crate::routes::media::ChunkSource;
use actix_web::web;
use futures_util::StreamExt;
use wa_api::cloud::CloudError;
use wa_api::ApiError;

/// Longest header block of one part, and longest text field.
const MAX_HEADERS_BYTES: usize = 8 * 1024;
pub const MAX_FIELD_BYTES: usize = 4 * 1024;

/// What the headers of one part say.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PartHeaders {
    pub name: String,
    pub content_type: Option<String>,
}

pub struct Multipart<'a> {
    payload: &'a mut web::Payload,
    buf: Vec<u8>,
    /// `\r\n--boundary`: what ends every part (the body is read as if it began with `\r\n`).
    delimiter: Vec<u8>,
    /// Whether the current part's delimiter has been read (its body is over).
    part_ended: bool,
}

/// The boundary of a `multipart/form-data` content type, unquoted.
pub fn boundary_of(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = parameter(params, "boundary")?;
    (!boundary.is_empty() && boundary.len() <= 70).then_some(boundary)
}

fn malformed(what: &str) -> CloudError {
    CloudError::invalid_parameter(format!("The multipart body is malformed: {what}."))
}

impl<'a> Multipart<'a> {
    pub fn new(payload: &'a mut web::Payload, boundary: &str) -> Self {
        Multipart {
            payload,
            buf: b"\r\n".to_vec(),
            delimiter: format!("\r\n--{boundary}").into_bytes(),
            part_ended: false,
        }
    }

    /// Reads one more chunk into the buffer; false at the end of the body.
    async fn fill(&mut self) -> Result<bool, CloudError> {
        match self.payload.next().await {
            None => Ok(false),
            Some(Ok(chunk)) => {
                self.buf.extend_from_slice(&chunk);
                Ok(true)
            }
            Some(Err(e)) => Err(malformed(&format!("reading failed ({e})"))),
        }
    }

    /// The headers of the next part, or `None` after the closing delimiter. Skips what is left
    /// of the current part (the preamble, on the first call).
    pub async fn next_part(&mut self) -> Result<Option<PartHeaders>, CloudError> {
        while self.body_chunk().await?.is_some() {}
        while self.buf.len() < 2 {
            if !self.fill().await? {
                return Err(malformed("it ends inside a delimiter"));
            }
        }
        if self.buf.starts_with(b"--") {
            return Ok(None);
        }
        let end = loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                break end;
            }
            if self.buf.len() > MAX_HEADERS_BYTES || !self.fill().await? {
                return Err(malformed("a part has no end of headers"));
            }
        };
        let block: Vec<u8> = self.buf.drain(..end + 4).collect();
        self.part_ended = false;
        Ok(Some(part_headers(&String::from_utf8_lossy(&block))))
    }

    /// The rest of the current part as text, at most [`MAX_FIELD_BYTES`].
    pub async fn text(&mut self) -> Result<String, CloudError> {
        let mut value = Vec::new();
        while let Some(chunk) = self.body_chunk().await? {
            value.extend_from_slice(&chunk);
            if value.len() > MAX_FIELD_BYTES {
                return Err(malformed("a text field is too long"));
            }
        }
        Ok(String::from_utf8_lossy(&value).into_owned())
    }

    /// The next bytes of the current part; `None` once its delimiter is consumed.
    async fn body_chunk(&mut self) -> Result<Option<web::Bytes>, CloudError> {
        if self.part_ended {
            return Ok(None);
        }
        loop {
            if let Some(at) = find(&self.buf, &self.delimiter) {
                if at == 0 {
                    self.buf.drain(..self.delimiter.len());
                    self.part_ended = true;
                    return Ok(None);
                }
                return Ok(Some(self.take(at)));
            }
            // All but a possible start of the delimiter can go.
            let keep = self.delimiter.len() - 1;
            if self.buf.len() > keep {
                return Ok(Some(self.take(self.buf.len() - keep)));
            }
            if !self.fill().await? {
                return Err(malformed("it ends before the closing delimiter"));
            }
        }
    }

    fn take(&mut self, len: usize) -> web::Bytes {
        web::Bytes::from(self.buf.drain(..len).collect::<Vec<u8>>())
    }
}

/// The current part's bytes, as an upload reads them.
impl ChunkSource for Multipart<'_> {
    async fn next_chunk(&mut self) -> Result<Option<web::Bytes>, ApiError> {
        self.body_chunk()
            .await
            .map_err(|e| ApiError::new(wa_api::ErrorCode::RequestNotValid, e.details.clone()))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn part_headers(block: &str) -> PartHeaders {
    let mut headers = PartHeaders::default();
    for line in block.split("\r\n") {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-disposition") {
            let params = value.split_once(';').map_or("", |(_, params)| params);
            headers.name = parameter(params, "name").unwrap_or_default();
        } else if name.eq_ignore_ascii_case("content-type") {
            headers.content_type = Some(value.trim().to_string()).filter(|v| !v.is_empty());
        }
    }
    headers
}

/// The value of `name` in `a=1; name="x"` style parameters, unquoted.
fn parameter(params: &str, name: &str) -> Option<String> {
    params.split(';').find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_and_headers_are_read() {
        assert_eq!(
            boundary_of("multipart/form-data; boundary=\"abc\"").as_deref(),
            Some("abc")
        );
        assert_eq!(boundary_of("multipart/form-data").as_deref(), None);
        assert_eq!(boundary_of("text/plain; boundary=x").as_deref(), None);
        let headers = part_headers(
            "Content-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n",
        );
        assert_eq!(headers.name, "file");
        assert_eq!(headers.content_type.as_deref(), Some("image/jpeg"));
    }
}
