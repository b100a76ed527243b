//! What the state store and the rest of the network share without depending on each other:
//! the kinds of stored records, their pair keys, and the durability barrier (`state` runs
//! the flusher that serves it).

use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{watch, Notify};

/// The kinds of stored records (the `kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Meta,
    Business,
    Limits,
    Catalogs,
    PrefixRules,
    Code,
    Consumer,
    Window,
    Sent,
    Push,
    Media,
    VerifyLock,
    LatencyRules,
    /// Scenario entries waiting for a number to register.
    Pending,
}

impl Kind {
    const ALL: [Kind; 14] = [
        Kind::Meta,
        Kind::Business,
        Kind::Limits,
        Kind::Catalogs,
        Kind::PrefixRules,
        Kind::Code,
        Kind::Consumer,
        Kind::Window,
        Kind::Sent,
        Kind::Push,
        Kind::Media,
        Kind::VerifyLock,
        Kind::LatencyRules,
        Kind::Pending,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Meta => "meta",
            Kind::Business => "business",
            Kind::Limits => "limits",
            Kind::Catalogs => "catalogs",
            Kind::PrefixRules => "prefix_rules",
            Kind::Code => "code",
            Kind::Consumer => "consumer",
            Kind::Window => "window",
            Kind::Sent => "sent",
            Kind::Push => "push",
            Kind::Media => "media",
            Kind::VerifyLock => "verify_lock",
            Kind::LatencyRules => "latency_rules",
            Kind::Pending => "scenario_pending",
        }
    }

    /// The small kinds, compared whole at each flush instead of marked.
    pub fn compared(self) -> bool {
        matches!(
            self,
            Kind::Meta
                | Kind::Business
                | Kind::Limits
                | Kind::Catalogs
                | Kind::PrefixRules
                | Kind::Code
                | Kind::VerifyLock
                | Kind::LatencyRules
                | Kind::Pending
        )
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// The key of a record that belongs to a pair (business and consumer, business and message).
pub fn pair_key(first: &str, second: &str) -> String {
    format!("{first}|{second}")
}

/// Waiting for durability.
pub struct Persist {
    /// Number of the last flush that started collecting changes.
    started: AtomicU64,
    /// Number of the last flush that finished writing.
    done: watch::Sender<u64>,
    wake: Notify,
}

impl Default for Persist {
    fn default() -> Self {
        Persist {
            started: AtomicU64::new(0),
            done: watch::Sender::new(0),
            wake: Notify::new(),
        }
    }
}

impl Persist {
    /// Returns once every change made before the call is written (in memory-only mode the
    /// flusher runs too and simply discards).
    pub async fn flushed(&self) {
        let wanted = self.started.load(Ordering::SeqCst) + 1;
        let mut done = self.done.subscribe();
        self.wake.notify_one();
        // The sender lives as long as the network; an error means it is being dropped.
        let _ = done.wait_for(|finished| *finished >= wanted).await;
    }

    /// The flusher waits for this (or its interval) before each flush.
    pub async fn wake_requested(&self) {
        self.wake.notified().await;
    }

    /// A flush starts collecting changes; returns its number.
    pub fn start_flush(&self) -> u64 {
        self.started.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Flush `generation` has written its changes.
    pub fn finish_flush(&self, generation: u64) {
        self.done.send_replace(generation);
    }
}
