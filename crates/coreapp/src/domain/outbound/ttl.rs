//! `ttl` (spec §2.7): seconds as a number, a numeric string, or an ISO-8601 duration (`P1D`,
//! `PT12H`, `P1DT30M`). It applies to template and hsm messages only.

use serde_json::Value;
use wa_api::{ApiError, ErrorCode};

/// Default time to live of a template message (7 days).
pub const DEFAULT_TTL_SECS: i64 = 7 * 86_400;
/// Longest time to live (30 days).
pub const MAX_TTL_SECS: i64 = 30 * 86_400;

/// The ttl in seconds, or `None` when absent. Present but empty → 1009 `Empty TTL value not
/// allowed`; anything unparseable → 1009 with the usual wording.
pub fn parse(value: Option<&Value>) -> Result<Option<i64>, ApiError> {
    let invalid = |shown: &str| ApiError::invalid_parameter("ttl", shown);
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            "Empty TTL value not allowed",
        )),
        Some(Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(secs) if secs > 0 => Ok(Some(secs)),
            Ok(_) => Err(invalid(s)),
            Err(_) => iso_duration(s.trim()).map(Some).ok_or_else(|| invalid(s)),
        },
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|secs| *secs > 0)
            .map(Some)
            .ok_or_else(|| invalid(&n.to_string())),
        Some(other) => Err(invalid(&other.to_string())),
    }
}

/// `PnWnDTnHnMnS` (each part optional, integers only); years and months are refused because
/// their length in seconds is ambiguous.
fn iso_duration(text: &str) -> Option<i64> {
    let rest = text.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut total = units(date, &[('W', 7 * 86_400), ('D', 86_400)])?;
    if let Some(time) = time {
        total = total.checked_add(units(time, &[('H', 3600), ('M', 60), ('S', 1)])?)?;
    }
    (total > 0).then_some(total)
}

/// Sums `<digits><unit>` parts in the order `allowed` lists the units.
fn units(mut text: &str, allowed: &[(char, i64)]) -> Option<i64> {
    let mut total: i64 = 0;
    let mut next_allowed = 0;
    while !text.is_empty() {
        let split = text.find(|c: char| !c.is_ascii_digit())?;
        let (digits, rest) = text.split_at(split);
        let unit = rest.chars().next()?;
        let position = allowed[next_allowed..]
            .iter()
            .position(|(u, _)| *u == unit)?;
        let seconds = allowed[next_allowed + position].1;
        total = total.checked_add(digits.parse::<i64>().ok()?.checked_mul(seconds)?)?;
        next_allowed += position + 1;
        text = &rest[unit.len_utf8()..];
    }
    Some(total)
}

/// The effective ttl: the default when absent, kept within [`min_secs`, 30 days].
pub fn effective(ttl: Option<i64>, min_secs: i64) -> i64 {
    ttl.unwrap_or(DEFAULT_TTL_SECS)
        .clamp(min_secs.min(MAX_TTL_SECS), MAX_TTL_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ttl_forms() {
        assert_eq!(parse(None).unwrap(), None);
        assert_eq!(parse(Some(&json!(86400))).unwrap(), Some(86400));
        assert_eq!(parse(Some(&json!("86400"))).unwrap(), Some(86400));
        assert_eq!(parse(Some(&json!("P1D"))).unwrap(), Some(86400));
        assert_eq!(
            parse(Some(&json!("P1DT2H30M"))).unwrap(),
            Some(86400 + 9000)
        );
        assert_eq!(parse(Some(&json!("PT45S"))).unwrap(), Some(45));
        assert_eq!(parse(Some(&json!("P2W"))).unwrap(), Some(14 * 86400));
        let empty = parse(Some(&json!(""))).unwrap_err();
        assert_eq!(
            empty.errors[0].details.as_deref(),
            Some("Empty TTL value not allowed")
        );
        for bad in [
            json!("P1Y"),
            json!("1 day"),
            json!(-5),
            json!(true),
            json!("PT"),
            json!("P1H"),
        ] {
            assert_eq!(parse(Some(&bad)).unwrap_err().first_code(), 1009, "{bad}");
        }
    }

    #[test]
    fn effective_ttl_is_clamped() {
        assert_eq!(effective(None, 86400), DEFAULT_TTL_SECS);
        assert_eq!(effective(Some(60), 86400), 86400);
        assert_eq!(effective(Some(60), 1), 60);
        assert_eq!(effective(Some(100 * 86400), 1), MAX_TTL_SECS);
    }
}
