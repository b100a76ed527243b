//! The Graph ids of the registered number (`phone_number_id`) and of the business account
//! (`waba_id`): decimal strings of 15 digits derived from the registered number with SHA-256, so
//! they are stable across restarts, backups and webapps without storing anything. Both change
//! with the registered number (docs/compatibility.md). Media ids are our UUID-shaped ids written
//! as decimal numbers, which needs no storage either.

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

/// The Cloud form of a media id: the decimal digits of the 128-bit number our UUID-shaped id
/// (`8-4-4-4-12` lower-case hex) spells, since Cloud clients take a media id for a string of
/// digits. Any other id is shown as it is.
pub fn cloud_media_id(onprem: &str) -> String {
    uuid_number(onprem).map_or_else(|| onprem.to_string(), |number| number.to_string())
}

/// The On-Prem (UUID-shaped) media id a Cloud media id names; the inverse of
/// [`cloud_media_id`]. An id that is not such a number is passed on as it is, so an On-Prem id
/// works on the Cloud paths too.
pub fn onprem_media_id(cloud: &str) -> String {
    let is_number = !cloud.is_empty() && cloud.bytes().all(|b| b.is_ascii_digit());
    match cloud.parse::<u128>() {
        Ok(number) if is_number => {
            let hex = format!("{number:032x}");
            format!(
                "{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            )
        }
        _ => cloud.to_string(),
    }
}

fn uuid_number(id: &str) -> Option<u128> {
    let groups: Vec<&str> = id.split('-').collect();
    let shaped = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| {
            g.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
    if !shaped {
        return None;
    }
    u128::from_str_radix(&groups.concat(), 16).ok()
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
    fn media_ids_are_digits_on_the_cloud_side_and_round_trip() {
        for onprem in [
            "f2c25ecc-0c66-49f6-9092-8ec604b08b33",
            "00000000-0000-0000-0000-000000000001",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
        ] {
            let cloud = cloud_media_id(onprem);
            assert!(cloud.bytes().all(|b| b.is_ascii_digit()), "{cloud}");
            assert_eq!(onprem_media_id(&cloud), onprem);
        }
        assert_eq!(cloud_media_id("00000000-0000-0000-0000-000000000001"), "1");
        // Anything else passes both ways unchanged: On-Prem ids on Cloud paths, odd ids.
        for other in ["F2C25ECC-0C66-49F6-9092-8EC604B08B33", "abc", "", "1-2"] {
            assert_eq!(cloud_media_id(other), other);
        }
        for other in ["f2c25ecc-0c66-49f6-9092-8ec604b08b33", "+1", "12a", ""] {
            assert_eq!(onprem_media_id(other), other);
        }
        // Beyond 128 bits: not a media id of ours, passed on (the lookup then finds nothing).
        let huge = "9".repeat(40);
        assert_eq!(onprem_media_id(&huge), huge);
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
