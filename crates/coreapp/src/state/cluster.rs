//! This node's place in a High Availability / Multiconnect cluster: who it is, whether it is the
//! primary master, the shard it holds, and when it last reached the database. The loops of
//! `engine::cluster` write it; the network lifecycle, the delivery worker and the API read it.
//! A single node (no cluster settings) has `enabled == false` and answers everything itself.

use crate::network::NetClient;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};
use wa_api::cluster::{shard_of, NodeRole};
use wa_api::settings::ApplicationSettings;
use wa_common::cluster::ClusterSettings;
use wa_store::{Lease, ShardSlice};

/// One shard held under the epoch the primary master wrote it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardHold {
    pub index: u32,
    pub count: u32,
    pub epoch: i64,
}

impl ShardHold {
    /// The network session this hold opens: always scoped and with its epoch, also for the one
    /// shard of High Availability, so the network refuses a stale holder that reconnects (a
    /// `Whole` session carries no epoch; it is for single nodes).
    pub fn scope(self) -> wa_netproto::SessionScope {
        wa_netproto::SessionScope::Shard {
            index: self.index,
            count: self.count.max(1),
            epoch: self.epoch,
        }
    }

    /// Whether a message to `wa_id` belongs to this shard.
    pub fn owns(self, wa_id: &str) -> bool {
        shard_of(wa_id, self.count) == self.index
    }
}

/// What [`ClusterState::sending_scope`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendingScope {
    All,
    Shard(ShardSlice),
    Nothing,
}

impl SendingScope {
    /// The store's filter for the pending messages to read; `None` inside: all of them.
    /// `None` outside: there is nothing to read.
    pub fn filter(self) -> Option<Option<ShardSlice>> {
        match self {
            SendingScope::All => Some(None),
            SendingScope::Shard(slice) => Some(Some(slice)),
            SendingScope::Nothing => None,
        }
    }
}

pub struct ClusterState {
    /// Cluster mode; everything below is unused on a single node.
    pub enabled: bool,
    /// `WA_MASTER_NODE`: competes for the lease instead of holding shards.
    pub master: bool,
    /// A single node on a server database: it connects only while no other coreapp is live
    /// on that database (`engine::cluster::single`).
    pub guarded: bool,
    /// `"<hostname>:<12 hex>"`, new at every start: the key of this node in `/v1/health`.
    pub node_id: String,
    /// `host:port` where the other nodes and the webapp reach this node (set once listening).
    address: Mutex<String>,
    settings: ClusterSettings,
    heartbeat_override: Option<Duration>,
    unhealthy_override: Option<Duration>,
    role: watch::Sender<NodeRole>,
    shard: watch::Sender<Option<ShardHold>>,
    lease: Mutex<Option<Lease>>,
    /// The last heartbeat the database accepted; `None` before the first.
    last_beat: Mutex<Option<Instant>>,
    /// The shard count changed, or this node became primary: assign again now.
    pub reassign: Notify,
}

impl ClusterState {
    pub fn new(settings: &ClusterSettings, listen_port: u16) -> Self {
        let suffix: u64 = rand::random();
        ClusterState {
            enabled: settings.enabled(),
            master: settings.is_master(),
            guarded: false,
            node_id: format!("{}:{:012x}", settings.hostname(), suffix & 0xffff_ffff_ffff),
            address: Mutex::new(settings.advertised_address(listen_port)),
            settings: settings.clone(),
            heartbeat_override: settings.heartbeat_interval_ms.map(Duration::from_millis),
            unhealthy_override: settings.unhealthy_interval_ms.map(Duration::from_millis),
            role: watch::Sender::new(if settings.is_master() {
                NodeRole::SecondaryMaster
            } else {
                NodeRole::Coreapp
            }),
            shard: watch::Sender::new(None),
            lease: Mutex::new(None),
            last_beat: Mutex::new(None),
            reassign: Notify::new(),
        }
    }

    /// A single node: not part of any cluster.
    pub fn single() -> Self {
        Self::new(&ClusterSettings::default(), 0)
    }

    /// Where the other nodes reach this node.
    pub fn address(&self) -> String {
        crate::util::lock(&self.address).clone()
    }

    /// The RPC is listening on `port` (known only once bound when the configured port is 0).
    pub fn set_listen_port(&self, port: u16) {
        *crate::util::lock(&self.address) = self.settings.advertised_address(port);
    }

    /// How often this node heartbeats (the setting `heartbeat_interval`, seconds).
    pub fn heartbeat_interval(&self, app: &ApplicationSettings) -> Duration {
        self.heartbeat_override
            .unwrap_or(Duration::from_secs(app.heartbeat_interval.max(1)))
    }

    /// How long a node may go without a heartbeat (the setting `unhealthy_interval`, seconds).
    pub fn unhealthy_interval(&self, app: &ApplicationSettings) -> Duration {
        self.unhealthy_override
            .unwrap_or(Duration::from_secs(app.unhealthy_interval.max(1)))
    }

    /// The role `/v1/health` shows; `None` on a single node.
    pub fn role(&self) -> Option<NodeRole> {
        self.enabled.then(|| *self.role.borrow())
    }

    /// True on a single node, and on the master holding the lease.
    pub fn is_primary(&self) -> bool {
        !self.enabled || *self.role.borrow() == NodeRole::PrimaryMaster
    }

    pub fn subscribe_role(&self) -> watch::Receiver<NodeRole> {
        self.role.subscribe()
    }

    /// The lease this node holds as primary master.
    pub fn lease(&self) -> Option<Lease> {
        crate::util::lock(&self.lease).clone()
    }

    /// Records the outcome of a lease request: holding it makes this node the primary master.
    pub fn set_lease(&self, lease: Option<Lease>) {
        let primary = lease.is_some();
        *crate::util::lock(&self.lease) = lease;
        let role = if primary {
            NodeRole::PrimaryMaster
        } else {
            NodeRole::SecondaryMaster
        };
        let changed = self.role.send_if_modified(|current| {
            let changed = *current != role;
            *current = role;
            changed
        });
        if changed {
            tracing::warn!("cluster: this master is now {}", role.as_str());
            if primary {
                self.reassign.notify_one();
            }
        }
    }

    /// The shard this coreapp holds; `None` when it stands by (or is fenced).
    pub fn shard(&self) -> Option<ShardHold> {
        *self.shard.borrow()
    }

    pub fn subscribe_shard(&self) -> watch::Receiver<Option<ShardHold>> {
        self.shard.subscribe()
    }

    /// Records the shard the directory gives this node; true when it changed.
    pub fn set_shard(&self, hold: Option<ShardHold>) -> bool {
        let changed = self.shard.send_if_modified(|current| {
            let changed = *current != hold;
            *current = hold;
            changed
        });
        if changed {
            match hold {
                Some(h) => tracing::warn!(
                    "cluster: this coreapp now holds shard {} of {} (epoch {})",
                    h.index,
                    h.count,
                    h.epoch
                ),
                None => tracing::warn!("cluster: this coreapp holds no shard (standby)"),
            }
        }
        changed
    }

    /// A guarded single node found no other live coreapp: it may connect (as the whole number).
    pub fn claim_single(&self) {
        self.shard.send_replace(Some(ShardHold {
            index: 0,
            count: 1,
            epoch: 0,
        }));
    }

    /// The id this node has in the directory: a single node uses its address, so a restart on
    /// the same host and port is the same node, not a rival.
    pub fn directory_id(&self) -> String {
        if self.enabled {
            self.node_id.clone()
        } else {
            self.address()
        }
    }

    /// Whether this node may send to `wa_id` now: always on a single node; in a cluster only
    /// the coreapp holding the recipient's shard.
    pub fn may_send(&self, wa_id: &str) -> bool {
        !self.enabled || self.shard().is_some_and(|hold| hold.owns(wa_id))
    }

    /// Which pending messages this node sends: all of them on a single node, its shard's in a
    /// cluster (filtered by the store's query), none while it stands by.
    pub fn sending_scope(&self) -> SendingScope {
        match (self.enabled, self.shard()) {
            (false, _) => SendingScope::All,
            (true, Some(hold)) => SendingScope::Shard(ShardSlice {
                index: hold.index,
                count: hold.count,
            }),
            (true, None) => SendingScope::Nothing,
        }
    }

    /// The database took a heartbeat that was sent at `sent`. The database stamped it at or
    /// after `sent`, so measuring from `sent` never makes the node look fresher than the
    /// primary master sees it.
    pub fn beat_accepted(&self, sent: Instant) {
        let mut last = crate::util::lock(&self.last_beat);
        if last.is_none_or(|at| at < sent) {
            *last = Some(sent);
        }
    }

    /// When this node must have fenced itself if no heartbeat lands before: `fence_after` past
    /// the last one the database took; `None` before the first (nothing to fence yet).
    pub fn fence_deadline(&self, fence_after: Duration) -> Option<Instant> {
        crate::util::lock(&self.last_beat).map(|at| at + fence_after)
    }

    /// Self-fencing: gives up the shard (and the lease) and closes `session` at once, so
    /// nothing more is sent under an assignment that may have moved.
    pub fn fence(&self, why: &str, session: Option<NetClient>) {
        let had_shard = self.set_shard(None);
        let was_primary = self.lease().is_some();
        if was_primary {
            self.set_lease(None);
        }
        if let Some(session) = session {
            session.close();
        }
        if had_shard || was_primary {
            tracing::error!("cluster: fenced ({why}): the network session is closed");
        }
    }
}
