//! The REST webapp (container `waweb`).
//!
//! A request goes: [`middleware`] (request id, headers) → route table in [`routes`] → the
//! extractors of [`auth`] (Bearer / Apikey / Basic) and [`body`] (JSON parameters) → a handler in
//! `routes/*`, which answers from the store or forwards to the coreapp through [`coreapp`].

pub mod auth;
pub mod body;
pub mod client_addr;
pub mod cluster;
pub mod coreapp;
pub mod limiter;
pub mod middleware;
pub mod proxy_protocol;
pub mod ratelimit;
pub mod routes;
pub mod server;
pub mod state;
pub mod tls;
pub mod token_cache;

pub use server::{start, start_with_store, RunningWebapp, StartError};
