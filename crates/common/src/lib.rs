//! What every service shares: layered configuration, logging set-up, metric definitions and TLS
//! helpers.

mod allocator;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod media;
pub mod metrics;
pub mod storage;
pub mod telemetry;
pub mod tls;

pub use config::{ConfigError, Settings};
