//! Where the network's pushes go: each business's offline store, the sessions (one per shard)
//! that carry them, and the accepted-id table that makes re-sends harmless.

pub mod dedupe;
pub mod outbox;
pub mod shards;
