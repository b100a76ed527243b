//! Types an integration can observe: the response envelope, the On-Prem error table, and the
//! payloads of the endpoints, plus the internal RPC between webapp and coreapp, and the Cloud
//! API's shapes served on the same core (`cloud`).
//!
//! This crate knows nothing about databases or HTTP servers, so every service can share it.

pub mod cloud;
pub mod cluster;
pub mod envelope;
pub mod error;
pub mod health;
pub mod idempotency;
pub mod ids;
pub mod keys;
pub mod limits;
pub mod phone;
pub mod rpc;
pub mod settings;
pub mod status;
#[cfg(feature = "testing")]
pub mod testing;
pub mod users;
pub mod webhooks;

pub use envelope::Meta;
pub use error::{ApiError, ErrorCode};
