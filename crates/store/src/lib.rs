//! Storage for the webapp and the coreapp on MySQL/MariaDB, PostgreSQL or SQLite.
//!
//! Queries are written once with the diesel DSL against one `MultiConnection`; the few statements
//! that differ per backend sit beside the table they concern. The API is async and speaks domain
//! types: every query runs on tokio's blocking threads behind a semaphore sized to the pool.
//!
//! Layers, each using only the ones below it (no import cycle):
//! 4. `store` (the [`Store`] facade, the async API), `state` (wanet's generic key-value
//!    [`StateStore`], its own migrations), `admin`, `testing`: the public surface.
//! 3. `tables`: per table (or area), its rows as named structs and its queries as functions of a
//!    connection, backend-specific branches included; `tables::pipeline` defines the hot writes.
//! 2. `group_commit`: queues writes and commits them in shared transactions, whatever they are.
//! 1. `db`: connections, transactions, migrations, the pool and `Db::run`; knows no table.
//! 0. `error`, `config`, `backend`, `clock`, `schema` (every table's diesel definition), `seal`
//!    (secret values sealed at rest).

mod backend;
mod clock;
mod config;
mod db;
mod error;
mod group_commit;
mod schema;
mod seal;
mod state;
mod store;
mod tables;

pub mod admin;
pub mod testing;

pub use backend::Backend;
pub use config::StoreConfig;
pub use db::{DumpedValue, PoolState, QueryTimings};
pub use error::StoreError;
pub use seal::{Sealer, SecretsKey, KEY_BYTES as SECRETS_KEY_BYTES, SEALED_PREFIX};
pub use state::{StateChange, StateRow, StateStore};
pub use store::Store;
pub use tables::blobs::MAX_BLOB_BYTES;
pub use tables::callbacks::{NewCallback, PendingCallback};
pub use tables::certs::StoredCert;
pub use tables::cluster::{
    ClusterNode, Lease, NodeHeartbeat, NodeRole, NodeStatus, ShardAssignment,
};
pub use tables::config_values::MAX_CONFIG_VALUE_BYTES;
pub use tables::conversations::Conversation;
pub use tables::idempotency::IdempotentSend;
pub use tables::identities::ContactIdentity;
pub use tables::media::MediaRecord;
pub use tables::messages::{
    InboundMessage, OutboundMessage, ShardSlice, StatusOutcome, StoredMessage,
};
pub use tables::registration::Registration;
pub use tables::stats::DbCounts;
pub use tables::stickerpacks::{Sticker, StickerChanges, StickerPack, StickerPackChanges};
pub use tables::system_tokens::SystemToken;
pub use tables::tokens::{LiveToken, StoredToken};
pub use tables::users::{NewUser, User};
