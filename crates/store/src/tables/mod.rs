//! Layer 3: the tables. One module per table (or per area, `messages/`), holding that table's
//! rows as named structs and every query on it as a function of a `&mut DbConnection`,
//! backend-specific branches included. Nothing here is async; the `store` facade runs these
//! functions on the pool. Within the layer: `messages` uses `callbacks` (a message and its webhook
//! share a transaction), `users` uses `tokens`, `idempotency` uses `messages`, `pipeline` and `stats` use several tables.

pub(crate) mod blobs;
pub(crate) mod callbacks;
pub(crate) mod certs;
pub(crate) mod cluster;
pub(crate) mod config_values;
pub(crate) mod contacts;
pub(crate) mod conversations;
pub(crate) mod idempotency;
pub(crate) mod identities;
pub(crate) mod media;
pub(crate) mod messages;
pub(crate) mod pipeline;
pub(crate) mod registration;
pub(crate) mod secrets;
pub(crate) mod stats;
pub(crate) mod stickerpacks;
pub(crate) mod system_tokens;
pub(crate) mod tokens;
pub(crate) mod users;
