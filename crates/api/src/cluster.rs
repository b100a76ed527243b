//! High Availability and Multiconnect: the rules every node and the webapp must agree on.
//!
//! A number's recipients are split into `shards` (1, 2, 4, 8, 16 or 32); the coreapp that holds
//! shard `i` holds the network connection for every recipient whose shard is `i`. The shard of a
//! recipient is the original's: the unsigned IEEE CRC-32 of the recipient's wa_id (PHP `crc32()`),
//! modulo the shard count.

/// The shard counts `POST /v1/account/shards` accepts (1 is plain High Availability).
pub const SHARD_COUNTS: [u32; 6] = [1, 2, 4, 8, 16, 32];

/// Whether `count` is a valid shard count.
pub fn is_shard_count(count: u32) -> bool {
    SHARD_COUNTS.contains(&count)
}

/// The shard of `wa_id` among `count` shards (0 when `count` is 0 or 1). `wa_id` is used as the
/// digits of the number, so `+1 631-555-0100` and `16315550100` land on the same shard.
pub fn shard_of(wa_id: &str, count: u32) -> u32 {
    if count <= 1 {
        return 0;
    }
    shard_key(wa_id) % count
}

/// What the shard of `wa_id` is taken from, for any count: the CRC-32 of its digits. The store
/// keeps it with each outbound message, so a coreapp reads only its own shard's messages.
pub fn shard_key(wa_id: &str) -> u32 {
    let digits: String = wa_id.chars().filter(char::is_ascii_digit).collect();
    crc32fast::hash(digits.as_bytes())
}

/// What a node of the cluster is, as `/v1/health` names it per node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeRole {
    /// The master holding the cluster lease: registration, settings, shard assignment.
    PrimaryMaster,
    /// A master waiting to take over the lease.
    SecondaryMaster,
    /// A coreapp: holds the connection for its shards, or stands by.
    Coreapp,
}

impl NodeRole {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeRole::PrimaryMaster => "primary_master",
            NodeRole::SecondaryMaster => "secondary_master",
            NodeRole::Coreapp => "coreapp",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shard_is_php_crc32_of_the_digits() {
        // PHP: crc32("16315550100") = 1382359807.
        assert_eq!(crc32fast::hash(b"16315550100"), 1_382_359_807);
        assert_eq!(shard_of("16315550100", 4), 1_382_359_807 % 4);
        assert_eq!(shard_of("+1 631-555-0100", 4), shard_of("16315550100", 4));
        assert_eq!(shard_of("16315550100", 1), 0);
        for count in SHARD_COUNTS {
            assert!(shard_of("447400123456", count) < count);
        }
        assert!(!is_shard_count(3));
    }
}
