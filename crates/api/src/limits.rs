//! Every length limit on the strings a request may carry, in one table, so validation and not the
//! database decides what is too long (a value the database cannot hold would be a 500).
//!
//! Limits are in characters (Unicode scalar values), as clients count them. A field with a rule of
//! its own is named here; any other string, anywhere in any JSON body, is held to
//! [`ANY_STRING_CHARS`], which the webapp checks on every body it reads and the coreapp again on
//! every message: every column holding client values takes at least that much (MEDIUMTEXT on
//! MySQL, TEXT elsewhere). Over a limit the answer is 400/1009
//! `Parameter '<name>' must be at most <N> characters long` (see [`too_long`]), except where the
//! original had its own wording (a text body: 1001 `Message too long`; the about text).

use crate::{ApiError, ErrorCode};
use serde_json::Value;

/// Any string without a limit of its own, in any request body.
pub const ANY_STRING_CHARS: usize = 32_768;

/// `text.body` of a text message (longer: 400/1001).
pub const TEXT_BODY_CHARS: usize = 4096;
/// `caption` of an image, video or document.
pub const CAPTION_CHARS: usize = 1024;
/// A message id a reply (`context.message_id`) or a reaction names; ids are about 30 characters.
pub const MESSAGE_ID_CHARS: usize = 128;
/// `reaction.emoji` (one emoji, possibly several code points).
pub const EMOJI_CHARS: usize = 10;

/// Interactive messages: `body.text`.
pub const INTERACTIVE_BODY_CHARS: usize = 1024;
/// Interactive messages: `header.text`.
pub const INTERACTIVE_HEADER_CHARS: usize = 60;
/// Interactive messages: `footer.text`.
pub const INTERACTIVE_FOOTER_CHARS: usize = 60;
/// List messages: `action.button`.
pub const LIST_BUTTON_CHARS: usize = 20;
/// List messages: a section's `title`.
pub const SECTION_TITLE_CHARS: usize = 24;
/// List messages: a row's `id`.
pub const ROW_ID_CHARS: usize = 200;
/// List messages: a row's `title`.
pub const ROW_TITLE_CHARS: usize = 24;
/// List messages: a row's `description`.
pub const ROW_DESCRIPTION_CHARS: usize = 72;
/// Reply buttons: a button's `title`.
pub const REPLY_TITLE_CHARS: usize = 20;
/// Reply buttons: a button's `id`.
pub const REPLY_ID_CHARS: usize = 256;

/// `PATCH /v1/settings/profile/about`: `text`.
pub const ABOUT_CHARS: usize = 139;
/// Business profile: `address` and `description`.
pub const BUSINESS_TEXT_CHARS: usize = 256;
/// Business profile: `email`.
pub const BUSINESS_EMAIL_CHARS: usize = 128;
/// Business profile: each of `websites`.
pub const BUSINESS_WEBSITE_CHARS: usize = 256;
/// Sticker packs: `publisher` and `name`.
pub const STICKERPACK_NAME_CHARS: usize = 128;
/// Sticker packs: the app store links; application settings: `webhooks.url` and other URLs.
pub const URL_CHARS: usize = 2048;
/// Application settings: `pass_through`-style short values (`heartbeat` pager fields).
pub const PAGER_CHARS: usize = 64;
/// The `Content-Type` of a media upload, kept with the file (`audio/ogg; codecs=opus` may carry
/// parameters).
pub const MIME_TYPE_CHARS: usize = 255;
/// The `Idempotency-Key` header of `POST /v1/messages`.
pub const IDEMPOTENCY_KEY_CHARS: usize = 255;

/// The limits above by the name a client sees, for documentation and tests (the usernames and
/// passwords of `wa_api::users` have their own policy: 4–32 and 8–64 characters).
pub const TABLE: &[(&str, usize)] = &[
    ("any other string", ANY_STRING_CHARS),
    ("text.body", TEXT_BODY_CHARS),
    ("image/video/document caption", CAPTION_CHARS),
    ("context.message_id, reaction.message_id", MESSAGE_ID_CHARS),
    ("reaction.emoji", EMOJI_CHARS),
    ("interactive body.text", INTERACTIVE_BODY_CHARS),
    ("interactive header.text", INTERACTIVE_HEADER_CHARS),
    ("interactive footer.text", INTERACTIVE_FOOTER_CHARS),
    ("list action.button", LIST_BUTTON_CHARS),
    ("list section title", SECTION_TITLE_CHARS),
    ("list row id", ROW_ID_CHARS),
    ("list row title", ROW_TITLE_CHARS),
    ("list row description", ROW_DESCRIPTION_CHARS),
    ("reply button title", REPLY_TITLE_CHARS),
    ("reply button id", REPLY_ID_CHARS),
    ("profile about text", ABOUT_CHARS),
    ("business profile address, description", BUSINESS_TEXT_CHARS),
    ("business profile email", BUSINESS_EMAIL_CHARS),
    ("business profile websites", BUSINESS_WEBSITE_CHARS),
    ("sticker pack publisher, name", STICKERPACK_NAME_CHARS),
    ("URLs (store links, webhooks.url)", URL_CHARS),
    ("short settings values", PAGER_CHARS),
    ("media upload Content-Type", MIME_TYPE_CHARS),
    ("Idempotency-Key header", IDEMPOTENCY_KEY_CHARS),
];

/// 400/1009 for a value over its length limit.
pub fn too_long(name: &str, max: usize) -> ApiError {
    ApiError::new(
        ErrorCode::ParameterValueInvalid,
        format!("Parameter '{name}' must be at most {max} characters long"),
    )
}

/// [`too_long`] for the first string inside `value` longer than `max` characters, named by its
/// key (`name` for `value` itself and for array items).
pub fn bounded_strings(value: &Value, name: &str, max: usize) -> Result<(), ApiError> {
    match value {
        Value::String(text) if over(text, max) => Err(too_long(name, max)),
        Value::Array(items) => items
            .iter()
            .try_for_each(|item| bounded_strings(item, name, max)),
        Value::Object(fields) => fields.iter().try_for_each(|(key, item)| {
            if over(key, max) {
                return Err(too_long("key", max));
            }
            bounded_strings(item, key, max)
        }),
        _ => Ok(()),
    }
}

/// More than `max` characters, counted only as far as needed.
fn over(text: &str, max: usize) -> bool {
    // A character is at most 4 bytes: short strings need no count.
    text.len() > max && text.chars().nth(max).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_first_long_string_is_named() {
        let long = "é".repeat(ANY_STRING_CHARS + 1);
        let fine = "😀".repeat(ANY_STRING_CHARS);
        assert!(
            bounded_strings(&json!({"a": fine, "b": [1, "x"]}), "body", ANY_STRING_CHARS).is_ok()
        );
        let error = bounded_strings(
            &json!({"a": "x", "b": {"c": [long]}}),
            "body",
            ANY_STRING_CHARS,
        )
        .unwrap_err();
        assert_eq!((error.status, error.first_code()), (400, 1009));
        assert_eq!(
            error.errors[0].details.as_deref(),
            Some("Parameter 'c' must be at most 32768 characters long")
        );
        let key = "k".repeat(ANY_STRING_CHARS + 1);
        let mut object = serde_json::Map::new();
        object.insert(key, json!(1));
        assert!(bounded_strings(&Value::Object(object), "body", ANY_STRING_CHARS).is_err());
    }

    #[test]
    fn the_table_lists_every_limit_once() {
        let mut names: Vec<&str> = TABLE.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLE.len());
        assert!(TABLE.iter().all(|(_, max)| *max <= ANY_STRING_CHARS));
    }
}
