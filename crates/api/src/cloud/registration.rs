//! Cloud's `POST /{phone-number-id}/register` body: `messaging_product` and the six-digit
//! two-step verification `pin` (which Cloud sets when the number has none, and otherwise checks).
//! `data_localization_region` and `backup` are accepted and ignored: the simulated network
//! stores everything locally, and On-Prem backups have their own endpoint.

use super::{check_messaging_product, CloudError};
use serde_json::{Map, Value};

/// The PIN of a register body, or 100 naming what is wrong.
pub fn register_pin(body: &Map<String, Value>) -> Result<String, CloudError> {
    check_messaging_product(body)?;
    match body.get("pin") {
        None | Some(Value::Null) => Err(CloudError::invalid_parameter(
            "The parameter pin is required.",
        )),
        Some(Value::String(pin)) if is_pin(pin) => Ok(pin.clone()),
        Some(_) => Err(CloudError::invalid_parameter("Param pin must be 6 digits.")),
    }
}

/// Six ASCII digits, as both APIs want a two-step verification PIN.
pub fn is_pin(pin: &str) -> bool {
    pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_register_body_needs_the_product_and_a_six_digit_pin() {
        let ok = body(json!({"messaging_product": "whatsapp", "pin": "123456"}));
        assert_eq!(register_pin(&ok).ok().as_deref(), Some("123456"));
        let with_region = body(json!({"messaging_product": "whatsapp", "pin": "000000",
            "data_localization_region": "DE"}));
        assert!(register_pin(&with_region).is_ok());
        for bad in [
            json!({"pin": "123456"}),
            json!({"messaging_product": "sms", "pin": "123456"}),
            json!({"messaging_product": "whatsapp"}),
            json!({"messaging_product": "whatsapp", "pin": 123456}),
            json!({"messaging_product": "whatsapp", "pin": "12345"}),
            json!({"messaging_product": "whatsapp", "pin": "1234567"}),
            json!({"messaging_product": "whatsapp", "pin": "12345a"}),
            json!({"messaging_product": "whatsapp", "pin": "١٢٣٤٥٦"}),
        ] {
            let error = register_pin(&body(bad.clone())).err();
            assert_eq!(error.map(|e| e.code.code()), Some(100), "{bad}");
        }
    }
}
