//! Per-client-IP counters for the login lockout and the user create/update limit
//! (spec onprem-rest §5.6). Like the original's APCu buckets they live in this process's memory,
//! so each webapp replica counts on its own.
//!
//! Hand-written rather than a rate-limiting crate because the lockout needs to *look* at the
//! bucket without consuming it (a good login from a locked-out IP is refused but not counted).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Beyond this many tracked clients, expired windows are swept on the next write.
const SWEEP_THRESHOLD: usize = 10_000;

#[derive(Debug)]
pub struct WindowLimiter {
    max: u32,
    window: Duration,
    clients: Mutex<HashMap<IpAddr, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

impl WindowLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        WindowLimiter {
            max,
            window,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// True when `ip` has used up its allowance in the current window.
    pub fn is_exhausted(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .get(&ip)
            .is_some_and(|w| now.duration_since(w.started) < self.window && w.count >= self.max)
    }

    /// Counts one event for `ip`; false when this event went over the allowance.
    pub fn consume(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if clients.len() > SWEEP_THRESHOLD {
            clients.retain(|_, w| now.duration_since(w.started) < self.window);
        }
        let window = clients.entry(ip).or_insert(Window {
            started: now,
            count: 0,
        });
        if now.duration_since(window.started) >= self.window {
            *window = Window {
                started: now,
                count: 0,
            };
        }
        window.count = window.count.saturating_add(1);
        window.count <= self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exhausts_after_max_and_recovers_after_the_window() {
        let limiter = WindowLimiter::new(2, Duration::from_millis(50));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(limiter.consume(ip));
        assert!(!limiter.is_exhausted(ip));
        assert!(limiter.consume(ip));
        assert!(limiter.is_exhausted(ip));
        assert!(!limiter.consume(ip));
        assert!(!limiter.is_exhausted(other));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!limiter.is_exhausted(ip));
        assert!(limiter.consume(ip));
    }
}
