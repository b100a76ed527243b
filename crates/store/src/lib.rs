//! Storage for the webapp on MySQL/MariaDB, PostgreSQL or SQLite.
//!
//! Queries are written once with the diesel DSL against one `MultiConnection`; the few statements
//! that differ per backend live in `dialect`. The API is async and speaks domain types: every query
//! runs on tokio's blocking threads behind a semaphore sized to the connection pool.

mod backend;
mod blobs;
mod callbacks;
mod certs;
mod config;
mod config_values;
mod connection;
mod contacts;
mod conversations;
mod dialect;
mod error;
mod first_writer;
mod gc;
mod group_commit;
mod identities;
mod media;
mod messages;
mod migrations;
mod pool;
mod registration;
mod schema;
mod secrets;
mod startup;
mod state;
mod stats;
mod stickerpacks;
mod store;
mod tokens;
mod users;

pub mod admin;
pub mod testing;

pub use backend::Backend;
pub use blobs::MAX_BLOB_BYTES;
pub use callbacks::{NewCallback, PendingCallback};
pub use certs::StoredCert;
pub use config::StoreConfig;
pub use config_values::MAX_CONFIG_VALUE_BYTES;
pub use conversations::Conversation;
pub use error::StoreError;
pub use identities::ContactIdentity;
pub use media::MediaRecord;
pub use messages::{InboundMessage, OutboundMessage, StatusOutcome, StoredMessage};
pub use registration::Registration;
pub use state::{StateChange, StateRow, StateStore};
pub use stats::{DbCounts, QueryTimings};
pub use stickerpacks::{Sticker, StickerChanges, StickerPack, StickerPackChanges};
pub use store::Store;
pub use tokens::StoredToken;
pub use users::{NewUser, User};
