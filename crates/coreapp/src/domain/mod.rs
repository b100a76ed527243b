//! The rules and lookups of the business side, used by the handlers (`api`) and the background
//! work (`engine`) alike: validating outbound messages, templates, catalogs, media, identities,
//! conversations, the profile as the network sees it, garbage collection. Below `api` and `engine`,
//! above `state`.

pub mod business;
pub mod capabilities;
pub mod catalogs;
pub mod cloud_webhooks;
pub mod conversations;
pub mod first_party_stickers;
pub mod gc;
pub mod idempotency;
pub mod identity;
pub mod media;
pub mod outbound;
pub mod profile;
pub mod shards;
pub mod templates;
pub mod webp;
