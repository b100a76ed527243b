//! The process harness of the end-to-end tests (`crates/e2e`) and the bench (`crates/bench`):
//! both start the real binaries as child processes and need the same few things done the same
//! way, so they live here once.
//!
//! - [`ports`]: loopback ports for the services, picked outside the kernel's ephemeral range.
//! - [`process`]: a started binary with a clean environment and a log file, waiting for its
//!   ports, signals, stopping.
//! - [`procfs`]: CPU time and memory of a process from `/proc` (Linux, like the containers).

pub mod ports;
pub mod process;
pub mod procfs;

pub use ports::free_port;
pub use process::{Error, Process, Signal, Start};
pub use procfs::Memory;
