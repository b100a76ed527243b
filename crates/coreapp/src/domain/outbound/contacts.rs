//! `contacts` (spec §2.4.4): an array of vCard-like cards, each with `name.formatted_name`.

use super::fields::{
    display, element, optional_array, optional_str, required_object, required_str,
};
use serde_json::Value;
use wa_api::ApiError;

/// Most cards in one message (Cloud's limit; On-Prem's is unconfirmed).
const MAX_CARDS: usize = 257;

pub fn contacts_array(contacts: &Value) -> Result<Value, ApiError> {
    let Some(cards) = contacts.as_array() else {
        return Err(ApiError::invalid_parameter("contacts", &display(contacts)));
    };
    if cards.is_empty() || cards.len() > MAX_CARDS {
        return Err(ApiError::invalid_parameter("contacts", &display(contacts)));
    }
    for card in cards {
        check_card(element(card, "contacts")?)?;
    }
    Ok(contacts.clone())
}

fn check_card(card: &serde_json::Map<String, Value>) -> Result<(), ApiError> {
    let name = required_object(card, "name")?;
    let formatted = required_str(name, "formatted_name")?;
    if formatted.trim().is_empty() {
        return Err(ApiError::invalid_parameter("formatted_name", formatted));
    }
    if let Some(birthday) = optional_str(card, "birthday")? {
        if !is_date(birthday) {
            return Err(ApiError::invalid_parameter("birthday", birthday));
        }
    }
    for list in ["addresses", "emails", "ims", "phones", "urls"] {
        for entry in optional_array(card, list)?.unwrap_or_default() {
            element(entry, list)?;
        }
    }
    Ok(())
}

/// `YYYY-MM-DD` with plausible month and day.
fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    let digits = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    digits(y, 4)
        && digits(m, 2)
        && digits(d, 2)
        && (1..=12).contains(&m.parse::<u8>().unwrap_or(0))
        && (1..=31).contains(&d.parse::<u8>().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn contacts_rules() {
        let card = json!([{"name": {"formatted_name": "Kerry Fisher"}, "birthday": "2012-08-18",
                           "phones": [{"phone": "+1 940 555 1234", "type": "CELL"}]}]);
        assert!(contacts_array(&card).is_ok());
        assert_eq!(
            contacts_array(&json!({"name": {}}))
                .unwrap_err()
                .first_code(),
            1009
        );
        assert_eq!(contacts_array(&json!([])).unwrap_err().first_code(), 1009);
        let no_name = json!([{"name": {"first_name": "K"}}]);
        let e = contacts_array(&no_name).unwrap_err();
        assert_eq!(
            e.errors[0].details.as_deref(),
            Some("Missing mandatory parameter 'formatted_name'")
        );
        let bad_birthday = json!([{"name": {"formatted_name": "K"}, "birthday": "18/08/2012"}]);
        assert_eq!(
            contacts_array(&bad_birthday).unwrap_err().first_code(),
            1009
        );
        let bad_phones = json!([{"name": {"formatted_name": "K"}, "phones": "x"}]);
        assert_eq!(contacts_array(&bad_phones).unwrap_err().first_code(), 1009);
    }
}
