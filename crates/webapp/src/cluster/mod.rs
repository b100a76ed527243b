//! High Availability and Multiconnect in the webapp: where each call goes when several
//! coreapp processes serve one number (docs/ha.md).
//!
//! The nodes register and heartbeat in the shared database; the webapp reads that directory
//! (cached briefly, since every call needs it) and sends each call to the node that must answer
//! it: a send to the coreapp holding the recipient's shard, a master-only call to the primary
//! master, anything else to a random healthy coreapp. When the node answers 1017 (not the primary
//! master) or 1018 (not the shard's holder), the directory moved under the call: it is read
//! again and the call is made once more. Health, support and stats ask every node
//! (`fanout.rs`). Without cluster mode none of this runs and the one coreapp answers everything.

mod directory;
pub mod fanout;

pub use directory::{Directory, Node};

use crate::coreapp::{CoreappClient, Forwarded};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use wa_api::error::ErrorCode;
use wa_api::rpc::{Endpoint, NodeKind};
use wa_api::ApiError;
use wa_store::Store;

/// How long a read of the directory is reused. Short: a failover must show within a second,
/// and a stale answer costs at most the one retry.
const CACHE_FOR: Duration = Duration::from_millis(500);

/// The node a public call must reach: the route table says which calls only the primary
/// master answers; a send goes by its recipient (`to` of the body).
pub fn target_of<'a>(
    method: wa_api::rpc::Method,
    path_pattern: &str,
    body: Option<&'a serde_json::Value>,
) -> Target<'a> {
    let route = wa_api::rpc::ROUTES
        .iter()
        .find(|r| r.method == method && r.path == path_pattern);
    match route {
        Some(r) if r.node == NodeKind::PrimaryMaster => Target::PrimaryMaster,
        Some(r) if r.endpoint == Endpoint::MessageSend => {
            match body.and_then(|b| b["to"].as_str()) {
                Some(to) => Target::Recipient(to),
                // No recipient: any coreapp answers the validation error.
                None => Target::Any,
            }
        }
        _ => Target::Any,
    }
}

/// Which node a call must reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// Master-only calls (registration, settings, shards, backup/restore, ...).
    PrimaryMaster,
    /// A send: the holder of this recipient's shard.
    Recipient(&'a str),
    /// Any healthy coreapp.
    Any,
}

pub struct Cluster {
    store: Store,
    /// A node whose heartbeat is older is left out (`unhealthy_interval`).
    unhealthy_ms: i64,
    cache: Mutex<Option<(Instant, Arc<Directory>)>>,
}

/// `unhealthy_interval` when the settings do not override it (spec §8.3 default).
const DEFAULT_UNHEALTHY: Duration = Duration::from_secs(30);

impl Cluster {
    /// The cluster in cluster mode (`WA_APP_MULTICONNECT`, `WA_MASTER_NODE` or
    /// `COREAPP_HOSTNAME` set, as for the coreapp); `None` for a single coreapp.
    pub fn from_settings(store: &Store, settings: &wa_common::Settings) -> Option<Cluster> {
        let cluster = &settings.cluster;
        let unhealthy = cluster
            .unhealthy_interval_ms
            .map_or(DEFAULT_UNHEALTHY, Duration::from_millis);
        cluster
            .enabled()
            .then(|| Cluster::new(store.clone(), unhealthy))
    }

    pub fn new(store: Store, unhealthy: Duration) -> Self {
        Cluster {
            store,
            unhealthy_ms: i64::try_from(unhealthy.as_millis()).unwrap_or(i64::MAX),
            cache: Mutex::new(None),
        }
    }

    /// The directory, from the cache when it is recent.
    pub async fn directory(&self) -> Result<Arc<Directory>, ApiError> {
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match cached {
            Some((read_at, directory)) if read_at.elapsed() < CACHE_FOR => Ok(directory),
            _ => self.fresh_directory().await,
        }
    }

    /// The directory read again now.
    pub async fn fresh_directory(&self) -> Result<Arc<Directory>, ApiError> {
        let directory = Directory::read(&self.store, self.unhealthy_ms)
            .await
            .map_err(|e| ApiError::internal(format!("cannot read the cluster directory: {e}")))?;
        let directory = Arc::new(directory);
        *self.cache.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((Instant::now(), directory.clone()));
        Ok(directory)
    }

    /// Forwards a call to the node `target` names; once more, after reading the directory
    /// again, when that node answers 1017/1018.
    pub async fn forward(
        &self,
        client: &CoreappClient,
        target: Target<'_>,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Forwarded, ApiError> {
        let directory = self.directory().await?;
        let node = pick(&directory, target)?;
        let answer = client
            .forward_at(&node.address, method.clone(), path_and_query, body)
            .await?;
        if !moved(&answer) {
            return Ok(answer);
        }
        tracing::info!(node = %node.id, "{path_and_query}: the node no longer serves it; asking again");
        let directory = self.fresh_directory().await?;
        let node = pick(&directory, target)?;
        client
            .forward_at(&node.address, method, path_and_query, body)
            .await
    }
}

/// The node for `target`, or the error telling the caller there is none right now.
fn pick<'d>(directory: &'d Directory, target: Target<'_>) -> Result<&'d Node, ApiError> {
    match target {
        Target::PrimaryMaster => directory.primary().ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotPrimaryMaster,
                "no master holds the cluster lease",
            )
        }),
        Target::Recipient(to) => directory.holder_of(to).ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotPrimaryCoreapp,
                "no coreapp holds the shard of this recipient",
            )
        }),
        Target::Any => directory
            .any()
            .ok_or_else(|| ApiError::new(ErrorCode::ServiceNotReady, "no healthy coreapp")),
    }
}

/// Whether the answer says the node no longer serves the call (1017/1018).
fn moved(answer: &Forwarded) -> bool {
    let code = answer.body["errors"][0]["code"].as_u64();
    [ErrorCode::NotPrimaryMaster, ErrorCode::NotPrimaryCoreapp]
        .iter()
        .any(|c| code == Some(u64::from(c.code())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wa_api::rpc::Method;

    #[test]
    fn the_route_table_decides_the_target() {
        let send = json!({"to": "16315551234", "type": "text"});
        assert_eq!(
            target_of(Method::Post, "/v1/messages", Some(&send)),
            Target::Recipient("16315551234")
        );
        assert_eq!(target_of(Method::Post, "/v1/messages", None), Target::Any);
        for (method, path) in [
            (Method::Post, "/v1/account"),
            (Method::Post, "/v1/account/shards"),
            (Method::Patch, "/v1/settings/application"),
            (Method::Post, "/v1/settings/restore"),
        ] {
            assert_eq!(
                target_of(method, path, None),
                Target::PrimaryMaster,
                "{path}"
            );
        }
        assert_eq!(target_of(Method::Post, "/v1/contacts", None), Target::Any);
    }

    fn node(id: &str, role: wa_api::cluster::NodeRole, healthy: bool) -> Node {
        Node {
            id: id.into(),
            role,
            address: format!("{id}:6250"),
            healthy,
        }
    }

    #[test]
    fn calls_for_any_node_go_to_a_coreapp_holding_a_shard() {
        use wa_api::cluster::NodeRole::{Coreapp, PrimaryMaster};
        let mut directory = Directory {
            nodes: vec![
                node("master1", PrimaryMaster, true),
                node("standby1", Coreapp, true),
                node("holder", Coreapp, true),
                node("standby2", Coreapp, true),
            ],
            shard_count: 1,
            holders: [(0, "holder".to_string())].into_iter().collect(),
        };
        for _ in 0..50 {
            assert_eq!(pick(&directory, Target::Any).unwrap().id, "holder");
        }
        // No holder yet (before registration): any healthy coreapp, then any node.
        directory.holders.clear();
        let picked: std::collections::BTreeSet<String> = (0..200)
            .map(|_| pick(&directory, Target::Any).unwrap().id.clone())
            .collect();
        assert!(picked.iter().all(|id| id != "master1"), "{picked:?}");
        assert!(picked.len() > 1, "a random coreapp each time: {picked:?}");
        directory.nodes.retain(|n| n.role == PrimaryMaster);
        assert_eq!(pick(&directory, Target::Any).unwrap().id, "master1");
    }

    #[test]
    fn picks_follow_the_directory() {
        let to = "16315551234";
        let shard = wa_api::cluster::shard_of(to, 2);
        let directory = Directory {
            nodes: vec![
                node("master1", wa_api::cluster::NodeRole::PrimaryMaster, true),
                node("master2", wa_api::cluster::NodeRole::SecondaryMaster, true),
                node("wacore1", wa_api::cluster::NodeRole::Coreapp, true),
                node("wacore2", wa_api::cluster::NodeRole::Coreapp, false),
            ],
            shard_count: 2,
            holders: [
                (shard, "wacore1".to_string()),
                (1 - shard, "wacore2".to_string()),
            ]
            .into_iter()
            .collect(),
        };
        assert_eq!(
            pick(&directory, Target::PrimaryMaster).unwrap().id,
            "master1"
        );
        assert_eq!(
            pick(&directory, Target::Recipient(to)).unwrap().id,
            "wacore1"
        );
        assert_eq!(pick(&directory, Target::Any).unwrap().id, "wacore1");
        let empty = Directory::default();
        let refused = pick(&empty, Target::PrimaryMaster).unwrap_err();
        assert_eq!(refused.errors[0].code, 1017);
    }
}
