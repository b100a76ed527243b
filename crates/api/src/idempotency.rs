//! The optional `Idempotency-Key` header of `POST /v1/messages`, an extension of this
//! implementation (docs/compatibility.md): a repeat of a send with the same key within
//! [`WINDOW_MS`] gets the first answer back and sends nothing; the same key with a different
//! body is refused. The webapp passes the header on; the coreapp keeps the keys in the database.

use crate::error::echoed;
use crate::{ApiError, ErrorCode};

/// The header's name, as clients send it (HTTP names are case-insensitive).
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// How long a key is remembered: 24 hours.
pub const WINDOW_MS: i64 = 24 * 3600 * 1000;

/// The longest key (a UUID is 36 characters; room for clients that combine ids).
pub const MAX_KEY_CHARS: usize = crate::limits::IDEMPOTENCY_KEY_CHARS;

/// A key is 1 to [`MAX_KEY_CHARS`] visible ASCII characters; anything else is 400/1009.
pub fn check_key(key: &str) -> Result<(), ApiError> {
    let visible = key.bytes().all(|b| b.is_ascii_graphic());
    if key.is_empty() || !visible {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            format!(
                "Header 'Idempotency-Key' must be 1 to {MAX_KEY_CHARS} visible ASCII characters"
            ),
        ));
    }
    if key.len() > MAX_KEY_CHARS {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            format!("Header 'Idempotency-Key' must be at most {MAX_KEY_CHARS} characters long"),
        ));
    }
    Ok(())
}

/// 400/1009 for a key reused with another request body.
pub fn reused_with_another_body(key: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ParameterValueInvalid,
        format!(
            "Idempotency-Key '{}' was already used for a different request in the last 24 hours",
            echoed(key)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_visible_ascii() {
        assert!(check_key("3f2a9c1e-0b7d-4c55-9e61-6d1f0a2b3c4d").is_ok());
        assert!(check_key(&"k".repeat(MAX_KEY_CHARS)).is_ok());
        for bad in [
            String::new(),
            "a b".into(),
            "é".into(),
            "k".repeat(MAX_KEY_CHARS + 1),
        ] {
            let error = check_key(&bad).unwrap_err();
            assert_eq!((error.status, error.first_code()), (400, 1009), "{bad}");
        }
    }
}
