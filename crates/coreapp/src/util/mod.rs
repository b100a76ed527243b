//! The leaf of the coreapp: helpers every layer uses and that use nothing of the coreapp.

pub mod body;
pub mod failure;

use std::future::Future;
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

/// Runs a one-off task in the background; a panic is logged with the task's name instead of
/// vanishing with it.
pub fn spawn_once<Fut>(name: &'static str, task: Fut)
where
    Fut: Future<Output = ()> + Send + 'static,
{
    let run = tokio::spawn(task);
    tokio::spawn(async move {
        if let Err(e) = run.await {
            if e.is_panic() {
                tracing::error!("background task '{name}' panicked: {e}");
            }
        }
    });
}
