//! The Graph ids of the registered number (`phone_number_id`) and of the business account
//! (`waba_id`): decimal strings of 15 digits derived from the registered number with SHA-256, so
//! they are stable across restarts, backups and webapps without storing anything. Both change
//! with the registered number (docs/compatibility.md).

use ring::digest::{digest, SHA256};

const PHONE_NUMBER_LABEL: &str = "wa-cloud phone_number_id";
const WABA_LABEL: &str = "wa-cloud waba_id";
const TEMPLATE_LABEL: &str = "wa-cloud template_id";
const APP_LABEL: &str = "wa-cloud app_id";
const USER_LABEL: &str = "wa-cloud user_id";
/// Ids run from 10^14 to 10^15 - 1: always 15 digits, no leading zero.
const LOWEST: u64 = 100_000_000_000_000;
const SPAN: u64 = 900_000_000_000_000;

/// The `phone_number_id` of the business number `wa_id` (digits).
pub fn phone_number_id(wa_id: &str) -> String {
    derived(PHONE_NUMBER_LABEL, wa_id)
}

/// The WhatsApp Business Account id of the installation registered with `wa_id`.
pub fn waba_id(wa_id: &str) -> String {
    derived(WABA_LABEL, wa_id)
}

/// The id of the app that receives the installation's webhooks (`subscribed_apps`).
pub fn app_id(wa_id: &str) -> String {
    derived(APP_LABEL, wa_id)
}

/// The business-scoped user id (BSUID) of consumer `wa_id` as the business registered with
/// `business` sees it: Cloud's form, the consumer's ISO 3166 country code, a dot, then digits
/// (`US.13491208655302741918`). Derived like the other ids, so it is the same in every webhook.
pub fn user_id(business: &str, wa_id: &str) -> String {
    let country = phonenumber::parse(None, format!("+{wa_id}"))
        .ok()
        .and_then(|number| number.country().id())
        .map_or_else(|| "ZZ".to_string(), |id| id.as_ref().to_string());
    let key = format!("{business}:{wa_id}");
    format!(
        "{country}.{}{}",
        derived(USER_LABEL, &key),
        derived(USER_LABEL, &format!("{key}:2"))
    )
}

/// The id of one translation of a template (Cloud lists each language as its own template).
pub fn template_id(namespace: &str, name: &str, language: &str) -> String {
    derived(TEMPLATE_LABEL, &format!("{namespace}:{name}:{language}"))
}

fn derived(label: &str, wa_id: &str) -> String {
    let hash = digest(&SHA256, format!("{label}:{wa_id}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_ref()[..8]);
    (LOWEST + u64::from_be_bytes(first) % SPAN).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_start_with_the_consumers_country_and_differ_per_business() {
        let id = user_id("16315551234", "447400900123");
        assert!(id.starts_with("GB."), "{id}");
        assert_eq!(id.len(), 3 + 30, "{id}");
        assert_eq!(id, user_id("16315551234", "447400900123"));
        assert_ne!(id, user_id("16315550000", "447400900123"));
        assert!(user_id("16315551234", "16505550100").starts_with("US."));
        assert!(user_id("16315551234", "999").starts_with("ZZ."));
    }

    #[test]
    fn ids_are_stable_distinct_15_digit_numbers() {
        let phone = phone_number_id("16315551234");
        assert_eq!(phone, phone_number_id("16315551234"));
        assert_eq!(phone.len(), 15);
        assert!(phone.bytes().all(|b| b.is_ascii_digit()), "{phone}");
        assert_ne!(phone, waba_id("16315551234"));
        assert_ne!(phone, phone_number_id("16315551235"));
        assert_eq!(waba_id("1").len(), 15);
        assert_ne!(template_id("n", "a", "en"), template_id("n", "a", "fr"));
    }
}
