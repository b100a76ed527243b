//! `reaction` (spec §2.4.8, Cloud-style; unconfirmed on On-Prem): an emoji on a message; an
//! empty emoji removes the reaction.

use super::fields::{required_str, Object};
use serde_json::{json, Value};
use wa_api::ApiError;

// One emoji can be several code points (skin tones, joiners), never a sentence.
use wa_api::limits::EMOJI_CHARS as MAX_EMOJI_CHARS;

pub fn reaction_object(reaction: &Object) -> Result<Value, ApiError> {
    let message_id = required_str(reaction, "message_id")?;
    if message_id.trim().is_empty() {
        return Err(ApiError::invalid_parameter("message_id", message_id));
    }
    if message_id.chars().count() > super::fields::MAX_MESSAGE_ID_CHARS {
        return Err(super::fields::too_long(
            "message_id",
            super::fields::MAX_MESSAGE_ID_CHARS,
        ));
    }
    let emoji = required_str(reaction, "emoji")?;
    let is_emoji = emoji.chars().count() <= MAX_EMOJI_CHARS
        && emoji
            .chars()
            .all(|c| !c.is_ascii_alphanumeric() && !c.is_whitespace());
    if !is_emoji {
        return Err(ApiError::invalid_parameter("emoji", emoji));
    }
    Ok(json!({ "message_id": message_id, "emoji": emoji }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: Value) -> Result<Value, ApiError> {
        reaction_object(v.as_object().unwrap())
    }

    #[test]
    fn reaction_rules() {
        assert!(check(json!({"message_id": "ABGG1", "emoji": "\u{1f44d}"})).is_ok());
        assert!(check(json!({"message_id": "ABGG1", "emoji": ""})).is_ok());
        assert_eq!(check(json!({"emoji": "x"})).unwrap_err().first_code(), 1008);
        assert_eq!(
            check(json!({"message_id": "ABGG1", "emoji": "hello"}))
                .unwrap_err()
                .first_code(),
            1009
        );
        assert_eq!(
            check(json!({"message_id": "ABGG1"}))
                .unwrap_err()
                .first_code(),
            1008
        );
    }
}
