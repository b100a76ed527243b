//! Phone numbers and wa_ids. A wa_id is the international number as digits only.

/// Digits of an international number written in any common way (`+1 (631) 555-1004`,
/// `00 44 20 ...`, `16315551004`); `None` when it cannot be a phone number (E.164 allows at most
/// 15 digits; fewer than 7 is no real subscriber number).
pub fn wa_id_of(input: &str) -> Option<String> {
    let trimmed = input.trim();
    let without_plus = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let mut digits = String::with_capacity(without_plus.len());
    for c in without_plus.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '(' | ')' | '.' => {}
            _ => return None,
        }
    }
    let digits = match digits.strip_prefix("00") {
        Some(rest) if !trimmed.starts_with('+') => rest.to_string(),
        _ => digits,
    };
    let plausible = (7..=15).contains(&digits.len()) && !digits.starts_with('0');
    plausible.then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::wa_id_of;

    #[test]
    fn common_formats() {
        assert_eq!(wa_id_of("16315551000").as_deref(), Some("16315551000"));
        assert_eq!(wa_id_of("+1 631 555 1001").as_deref(), Some("16315551001"));
        assert_eq!(
            wa_id_of("+1 (631) 555-1004").as_deref(),
            Some("16315551004")
        );
        assert_eq!(wa_id_of("1-631-555-1005").as_deref(), Some("16315551005"));
        assert_eq!(
            wa_id_of("0044 20 7946 0958").as_deref(),
            Some("442079460958")
        );
    }

    #[test]
    fn impossible_numbers() {
        assert_eq!(wa_id_of("+12345"), None);
        assert_eq!(wa_id_of("1234567890123456"), None);
        assert_eq!(wa_id_of("hello"), None);
        assert_eq!(wa_id_of(""), None);
        assert_eq!(wa_id_of("+1 631 555 1001 ext 3"), None);
    }
}
