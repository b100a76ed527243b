//! Test harness for the end-to-end suites: starts the real binaries (`wa-dev`, `webapp`,
//! `coreapp`) as child processes on free ports, and talks to them over HTTPS like an integration.
//!
//! The binaries must be built first (`cargo build --workspace --bins`, which `scripts/test` does).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod client;
pub mod cluster;
pub mod compose;
pub mod files;
pub mod netns;
pub mod process;
pub mod receiver;
pub mod relay;
pub mod stack;
pub mod webhooks;

pub use client::{basic, Client, Reply};
pub use process::{free_port, Service};
pub use receiver::Receiver;
pub use wa_harness::Signal;

/// The password every suite sets for `admin` on first login.
pub const ADMIN_PASSWORD: &str = "Str0ng!Pass";
/// The monitoring API key the suites configure.
pub const API_KEY: &str = "monitoring-key-0123456789";
