//! Starts the coreapp's background tasks and watches them. A task that must always run (the
//! network session, delivery, the webhook dispatcher, the schedules) is started again when it
//! ends or panics, after a short pause, with the failure logged (one-off tasks, such as a
//! requested garbage collection or a profile push, use `util::spawn_once`, which logs a panic).
//! `shutdown` stops them all, so an embedding process (the one-process launcher, tests) leaves
//! no long-running task behind it.

use std::future::Future;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Pause before a task that ended is started again; a task that keeps failing then costs one
/// log line a second, not a busy loop.
const RESTART_PAUSE: Duration = Duration::from_secs(1);

/// The long-running tasks of one coreapp.
pub struct Supervisor {
    tasks: JoinSet<()>,
    stop: CancellationToken,
}

impl Default for Supervisor {
    fn default() -> Self {
        Supervisor {
            tasks: JoinSet::new(),
            stop: CancellationToken::new(),
        }
    }
}

impl Supervisor {
    /// Runs `make()` until shutdown, starting it again whenever it returns or panics.
    pub fn keep_running<F, Fut>(&mut self, name: &'static str, make: F)
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            loop {
                let mut run = tokio::spawn(make());
                tokio::select! {
                    _ = stop.cancelled() => {
                        run.abort();
                        return;
                    }
                    ended = &mut run => report_end(name, ended),
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(RESTART_PAUSE) => {}
                }
                tracing::warn!("background task '{name}' started again");
            }
        });
    }

    /// Stops every task and waits until they are gone.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

fn report_end(name: &str, ended: Result<(), tokio::task::JoinError>) {
    match ended {
        Ok(()) => tracing::error!("background task '{name}' ended unexpectedly"),
        Err(e) if e.is_panic() => tracing::error!("background task '{name}' panicked: {e}"),
        Err(e) => tracing::error!("background task '{name}' was cancelled: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[tokio::test(start_paused = true)]
    async fn a_task_that_panics_is_started_again_and_shutdown_stops_it() {
        let starts = Arc::new(AtomicUsize::new(0));
        let mut supervisor = Supervisor::default();
        let counted = starts.clone();
        supervisor.keep_running("flaky", move || {
            let counted = counted.clone();
            async move {
                if counted.fetch_add(1, Ordering::SeqCst) < 2 {
                    panic!("first runs fail");
                }
                std::future::pending::<()>().await;
            }
        });
        while starts.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        supervisor.shutdown().await;
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(starts.load(Ordering::SeqCst), 3, "no start after shutdown");
    }
}
