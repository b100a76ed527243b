//! Moments kept in memory as `Instant` (monotonic, what timers compare) and stored as epoch
//! milliseconds (what survives a restart).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub fn now_epoch_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `at` as epoch milliseconds.
pub fn to_epoch_ms(at: Instant) -> i64 {
    let now = Instant::now();
    let now_ms = now_epoch_ms();
    match at.checked_duration_since(now) {
        Some(ahead) => now_ms.saturating_add(millis(ahead)),
        None => now_ms.saturating_sub(millis(now.duration_since(at))),
    }
}

/// The `Instant` of stored epoch milliseconds; `None` when it lies before this process's clock
/// can express (long expired anyway).
pub fn from_epoch_ms(ms: i64) -> Option<Instant> {
    let now = Instant::now();
    let delta = ms.saturating_sub(now_epoch_ms());
    let offset = Duration::from_millis(delta.unsigned_abs());
    if delta >= 0 {
        now.checked_add(offset)
    } else {
        now.checked_sub(offset)
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip_through_epoch_ms() {
        let past = Instant::now() - Duration::from_secs(5);
        let back = from_epoch_ms(to_epoch_ms(past)).unwrap();
        let drift = if back > past {
            back - past
        } else {
            past - back
        };
        assert!(drift < Duration::from_secs(1), "{drift:?}");
        let future = Instant::now() + Duration::from_secs(60);
        assert!(from_epoch_ms(to_epoch_ms(future)).unwrap() > Instant::now());
    }
}
