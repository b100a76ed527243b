//! Phone number rules of the directory.

/// Shortest and longest wa_id the network knows (E.164 allows at most 15 digits).
const MIN_DIGITS: usize = 7;
const MAX_DIGITS: usize = 15;

/// The wa_id of a number as clients write it (`+1 631-555-1234`, `(631) 5551234`, ...), or
/// `None` when it is not a well-formed number.
pub fn wa_id(input: &str) -> Option<String> {
    let digits = strip_separators(input.trim_start_matches('+'));
    let well_formed = (MIN_DIGITS..=MAX_DIGITS).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit());
    well_formed.then_some(digits)
}

/// Whether `wa_id` (digits, country code first) is a number its country's numbering plan
/// assigns, by libphonenumber's metadata. A national number written without its country code
/// reads as another country's number and almost never fits that plan, so it fails here, as it
/// does on the real network.
pub fn is_assigned(wa_id: &str) -> bool {
    phonenumber::parse(None, format!("+{wa_id}")).is_ok_and(|n| phonenumber::is_valid(&n))
}

/// Drops the separators people put in numbers; anything else (letters, `+` in the middle) is
/// kept so that validation still sees it.
pub fn strip_separators(input: &str) -> String {
    input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect()
}

/// A country calling code: 1 to 3 digits, an optional leading `+` tolerated.
pub fn country_code(input: &str) -> Option<String> {
    let cc = input.trim().trim_start_matches('+');
    let ok = (1..=3).contains(&cc.len()) && cc.chars().all(|c| c.is_ascii_digit());
    ok.then(|| cc.to_string())
}

/// The last four digits, used in default profile names ("WhatsApp User 1234").
pub fn last_four(wa_id: &str) -> &str {
    let start = wa_id.len().saturating_sub(4);
    wa_id.get(start..).unwrap_or(wa_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_common_spellings() {
        assert_eq!(wa_id("+1 631-555-1234").as_deref(), Some("16315551234"));
        assert_eq!(wa_id("16315551234").as_deref(), Some("16315551234"));
        assert_eq!(wa_id("(631) 555.1234").as_deref(), Some("6315551234"));
    }

    #[test]
    fn rejects_malformed_numbers() {
        assert_eq!(wa_id("123456"), None);
        assert_eq!(wa_id("1234567890123456"), None);
        assert_eq!(wa_id("1631555abcd"), None);
        assert_eq!(wa_id(""), None);
        assert_eq!(wa_id("1+6315551234"), None);
    }

    #[test]
    fn numbers_of_real_numbering_plans_are_assigned() {
        for wa_id in [
            "16315551234",
            "16505550100",
            "447400900123",
            "442079460958",
            "4915112345678",
            "989121234567",
            "905321234567",
            "79944067536",
        ] {
            assert!(is_assigned(wa_id), "{wa_id}");
        }
    }

    #[test]
    fn national_numbers_and_unassigned_ranges_are_not() {
        // Without the country code: +63 155..., +74 ..., +20 ...
        for wa_id in [
            "6315551234",
            "7400900123",
            "2079460958",
            "15550001111",
            "1999000000",
        ] {
            assert!(!is_assigned(wa_id), "{wa_id}");
        }
        // Ofcom's range for drama is never assigned.
        assert!(!is_assigned("447700900123"));
    }

    #[test]
    fn country_codes() {
        assert_eq!(country_code("1").as_deref(), Some("1"));
        assert_eq!(country_code("+44").as_deref(), Some("44"));
        assert_eq!(country_code("1234"), None);
        assert_eq!(country_code(""), None);
        assert_eq!(country_code("4a"), None);
    }

    #[test]
    fn last_four_of_short_input() {
        assert_eq!(last_four("16315551234"), "1234");
        assert_eq!(last_four("12"), "12");
    }
}
