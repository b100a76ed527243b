//! The leaf of the coreapp: helpers every layer uses and that use nothing of the coreapp.

pub mod body;
pub mod failure;

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, recovering from poisoning: the guarded maps stay consistent even if a holder panicked.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Milliseconds since the Unix epoch, as stored in the database.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
