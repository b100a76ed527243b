//! The Multiconnect shard count as stored (`POST /v1/account/shards` writes it on the primary
//! master; the primary's assignment loop reads it), and the plan that gives each shard a coreapp.

use std::collections::HashSet;
use wa_api::keys::SHARD_COUNT;
use wa_store::{ShardAssignment, Store, StoreError};

/// The stored shard count; 1 (plain High Availability) when never set or unreadable as a count.
pub async fn stored_count(store: &Store) -> Result<u32, StoreError> {
    let stored = store.get_config_value(SHARD_COUNT).await?;
    Ok(stored
        .and_then(|value| value.trim().parse::<u32>().ok())
        .filter(|count| wa_api::cluster::is_shard_count(*count))
        .unwrap_or(1))
}

pub async fn save_count(store: &Store, count: u32) -> Result<(), StoreError> {
    store.put_config_value(SHARD_COUNT, count.to_string()).await
}

/// The assignments to write so that each of `count` shards has a healthy holder: a shard whose
/// holder is healthy (and holds no lower shard) keeps it; every other shard goes to a healthy
/// coreapp holding nothing, in the order of `healthy`. A shard with no free coreapp is left as
/// it is. Each coreapp holds at most one shard.
pub fn plan(count: u32, rows: &[ShardAssignment], healthy: &[String]) -> Vec<(u32, String)> {
    let count_i32 = i32::try_from(count).unwrap_or(i32::MAX);
    let mut taken: HashSet<&str> = HashSet::new();
    let mut kept = vec![false; count as usize];
    for row in rows {
        let Ok(index) = usize::try_from(row.shard_index) else {
            continue;
        };
        if row.shard_count != count_i32 || index >= kept.len() {
            continue;
        }
        let holder = row.holder_node.as_str();
        if healthy.iter().any(|h| h == holder) && taken.insert(holder) {
            kept[index] = true;
        }
    }
    let mut free = healthy.iter().filter(|h| !taken.contains(h.as_str()));
    let mut changes = Vec::new();
    for (index, kept) in kept.iter().enumerate() {
        if *kept {
            continue;
        }
        let Some(holder) = free.next() else { break };
        changes.push((index as u32, holder.clone()));
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(index: i32, count: i32, holder: &str) -> ShardAssignment {
        ShardAssignment {
            shard_index: index,
            shard_count: count,
            holder_node: holder.to_string(),
            lease_epoch: 1,
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn healthy_holders_keep_their_shards_and_the_rest_go_to_standbys() {
        let healthy = names(&["a", "b", "c"]);
        assert_eq!(plan(1, &[], &healthy), vec![(0, "a".to_string())]);
        assert!(plan(1, &[row(0, 1, "b")], &healthy).is_empty());
        // b died: its shard goes to the first coreapp holding nothing.
        let rows = [row(0, 2, "a"), row(1, 2, "b")];
        assert_eq!(
            plan(2, &rows, &names(&["a", "c"])),
            vec![(1, "c".to_string())]
        );
        // A new count: rows of the old one do not count, each coreapp gets one shard.
        assert_eq!(
            plan(2, &[row(0, 1, "b")], &healthy),
            vec![(0, "a".to_string()), (1, "b".to_string())]
        );
        // Not enough coreapps: the rest waits.
        assert_eq!(plan(4, &[], &names(&["a"])), vec![(0, "a".to_string())]);
    }
}
