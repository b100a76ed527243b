//! High Availability and Multiconnect in one process: several masters and coreapps started with
//! `coreapp::start_with_store` on one MariaDB/PostgreSQL database (each with its own pool, as
//! separate processes would have) and a real wanet. Every wait is for a condition with a
//! generous timeout, and every failure prints the cluster as the database and the nodes see it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use coreapp::CoreState;
use serde_json::{json, Value};
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use wa_api::cluster::{shard_of, NodeRole};
use wa_store::{testing::TestDb, Backend, Store};

macro_rules! on_server_backends {
    ($($test:ident),+ $(,)?) => {
        $(
            mod $test {
                use wa_store::Backend;

                #[actix_web::test]
                async fn mysql() {
                    super::$test(Backend::Mysql).await
                }

                #[actix_web::test]
                async fn postgres() {
                    super::$test(Backend::Postgres).await
                }
            }
        )+
    };
}

on_server_backends!(
    two_masters_one_primary_and_the_other_takes_over,
    a_standby_takes_the_shard_of_a_stopped_coreapp,
    a_coreapp_cut_off_from_the_database_fences_itself,
    two_shards_are_held_by_two_scoped_coreapps,
    a_second_single_node_waits_while_the_first_is_live,
);

/// How long any condition may take on a slow, loaded machine.
const PATIENCE: Duration = Duration::from_secs(120);
const HEARTBEAT_MS: u64 = 200;
const UNHEALTHY_MS: u64 = 5_000;

struct Node {
    state: Arc<CoreState>,
    rpc: SocketAddr,
    server: ServerHandle,
    supervisor: Option<coreapp::engine::supervisor::Supervisor>,
}

impl Node {
    fn id(&self) -> String {
        self.state.cluster.node_id.clone()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.rpc)
    }

    /// Stops the node as the binary does on SIGTERM: it leaves the cluster.
    async fn stop_cleanly(&mut self) {
        self.server.stop(true).await;
        if let Some(supervisor) = self.supervisor.take() {
            supervisor.shutdown().await;
        }
        coreapp::engine::cluster::leave(&self.state).await;
    }

    /// Stops the node for good, as a kill would: its RPC, its background tasks, its network
    /// session; it stays in the directory until the primary sees its heartbeat age.
    async fn stop(&mut self) {
        self.server.stop(false).await;
        if let Some(supervisor) = self.supervisor.take() {
            supervisor.shutdown().await;
        }
        self.state.fence("stopped by the test");
    }
}

struct Cluster {
    db: TestDb,
    wanet: wanet::RunningWanet,
    nodes: Vec<Node>,
    http: reqwest::Client,
    _media: tempfile::TempDir,
}

impl Cluster {
    async fn new(backend: Backend) -> Cluster {
        let db = TestDb::new(backend);
        // Creates the database and runs the migrations once, before any node starts.
        Store::connect(&db.config()).await.unwrap();
        let wanet = wanet::start(wanet::WanetConfig {
            listen: "127.0.0.1:0".into(),
            control_listen: "127.0.0.1:0".into(),
            ..Default::default()
        })
        .await
        .unwrap();
        Cluster {
            db,
            wanet,
            nodes: Vec::new(),
            http: reqwest::Client::new(),
            _media: tempfile::tempdir().unwrap(),
        }
    }

    /// Starts a master or a coreapp on the cluster's database (through `db_url` when given).
    async fn start(&mut self, master: bool, db_url: Option<String>) -> usize {
        self.start_as(Some(master), db_url).await
    }

    /// `None`: a single node, without any cluster setting.
    async fn start_as(&mut self, master: Option<bool>, db_url: Option<String>) -> usize {
        let mut settings = wa_common::Settings::default();
        settings.database.url = Some(db_url.clone().unwrap_or_else(|| self.db.url.clone()));
        settings.media_dir = self._media.path().to_path_buf();
        settings.coreapp.listen = "127.0.0.1:0".into();
        settings.coreapp.network_address = self.wanet.protocol_addr.to_string();
        settings.coreapp.reconnect_max_backoff_secs = 1;
        if let Some(master) = master {
            settings.cluster.master_node = Some(if master { "1" } else { "0" }.into());
            settings.cluster.multiconnect = Some("1".into());
            settings.cluster.hostname = Some(if master { "master" } else { "wacore" }.into());
        }
        settings.cluster.heartbeat_interval_ms = Some(HEARTBEAT_MS);
        settings.cluster.unhealthy_interval_ms = Some(UNHEALTHY_MS);
        let mut config = self.db.config();
        if let Some(url) = db_url {
            config.url = url;
        }
        let store = Store::connect(&config).await.unwrap();
        let running = coreapp::start_with_store(settings, store).await.unwrap();
        let server = running.server.handle();
        actix_web::rt::spawn(running.server);
        self.nodes.push(Node {
            state: running.state.into_inner(),
            rpc: running.addresses[0],
            server,
            supervisor: Some(running.supervisor),
        });
        self.nodes.len() - 1
    }

    /// The cluster as the database and every node see it, for assertion messages.
    async fn picture(&self) -> String {
        let store = Store::connect(&self.db.config()).await.unwrap();
        let nodes = store.cluster_nodes().await.unwrap_or_default();
        let lease = store.current_lease().await.ok();
        let shards = store.shard_assignments().await.unwrap_or_default();
        let views: Vec<String> = self
            .nodes
            .iter()
            .map(|n| {
                format!(
                    "{} role={:?} shard={:?} gateway={:?} ready={}",
                    n.id(),
                    n.state.cluster.role(),
                    n.state.cluster.shard(),
                    n.state.gateway(),
                    n.state.is_ready()
                )
            })
            .collect();
        format!("\nnodes: {nodes:#?}\nlease: {lease:?}\nshards: {shards:#?}\nviews: {views:#?}")
    }

    async fn wait_for(&self, what: &str, condition: impl Fn(&Cluster) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !condition(self) {
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}: {}", self.picture().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn primaries(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].supervisor.is_some())
            .filter(|i| self.nodes[*i].state.cluster.role() == Some(NodeRole::PrimaryMaster))
            .collect()
    }

    fn holders(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].supervisor.is_some())
            .filter(|i| self.nodes[*i].state.cluster.shard().is_some())
            .collect()
    }

    async fn call(
        &self,
        node: usize,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (u16, Value) {
        let request = self.http.request(method, self.nodes[node].url(path));
        let request = if body.is_null() {
            request
        } else {
            request.json(&body)
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Polls node `node`'s `/rpc/gateway_status` until it says `wanted`.
    async fn wait_for_gateway(&self, node: usize, wanted: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (_, status) = self
                .call(
                    node,
                    reqwest::Method::GET,
                    "/rpc/gateway_status",
                    Value::Null,
                )
                .await;
            if status["gateway_status"] == wanted {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "node {node} said {status}, not {wanted}: {}",
                    self.picture().await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("http://{}/control{path}", self.wanet.control_addr);
        let request = self.http.request(method, url);
        let request = if body.is_null() {
            request
        } else {
            request.json(&body)
        };
        request.send().await.unwrap().json().await.unwrap()
    }

    /// Registers a number through the primary master, as an administrator would.
    async fn register(&self, primary: usize) {
        let (cc, number) = ("44", "7400900123");
        let cert = self
            .control(
                reqwest::Method::POST,
                "/certs",
                json!({"vname": "Cluster Shop"}),
            )
            .await["cert"]
            .as_str()
            .unwrap()
            .to_string();
        let ask = json!({"cc": cc, "phone_number": number, "method": "sms", "cert": cert});
        let deadline = Instant::now() + PATIENCE;
        // The master's anonymous session may still be connecting.
        loop {
            let (status, body) = self
                .call(primary, reqwest::Method::POST, "/v1/account", ask.clone())
                .await;
            if status == 202 {
                break;
            }
            assert!(Instant::now() < deadline, "code request: {status} {body}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let code = self
            .control(
                reqwest::Method::GET,
                &format!("/codes/{cc}{number}"),
                Value::Null,
            )
            .await["code"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, body) = self
            .call(
                primary,
                reqwest::Method::POST,
                "/v1/account/verify",
                json!({"code": code}),
            )
            .await;
        assert_eq!(status, 201, "verify: {body}");
    }

    async fn lease_epoch(&self) -> i64 {
        let store = Store::connect(&self.db.config()).await.unwrap();
        store.current_lease().await.unwrap().epoch
    }
}

fn code_of(body: &Value) -> u64 {
    body["errors"][0]["code"].as_u64().unwrap_or(0)
}

async fn two_masters_one_primary_and_the_other_takes_over(backend: Backend) {
    let mut cluster = Cluster::new(backend).await;
    cluster.start(true, None).await;
    cluster.start(true, None).await;
    cluster
        .wait_for("one primary master", |c| c.primaries().len() == 1)
        .await;
    let primary = cluster.primaries()[0];
    let secondary = 1 - primary;
    let epoch = cluster.lease_epoch().await;

    // Master-only calls: the primary answers, the secondary says 1017.
    let (status, body) = cluster
        .call(
            primary,
            reqwest::Method::GET,
            "/v1/account/shards",
            Value::Null,
        )
        .await;
    assert_eq!(
        (status, &body["account"]),
        (200, &json!({"shards": 1})),
        "{body}"
    );
    let (status, body) = cluster
        .call(
            secondary,
            reqwest::Method::GET,
            "/v1/account/shards",
            Value::Null,
        )
        .await;
    assert_eq!((status, code_of(&body)), (500, 1017), "{body}");
    let (_, health) = cluster
        .call(
            secondary,
            reqwest::Method::GET,
            "/rpc/gateway_status",
            Value::Null,
        )
        .await;
    assert_eq!(health["role"], "secondary_master", "{health}");
    assert_eq!(health["node"], cluster.nodes[secondary].id(), "{health}");

    cluster.nodes[primary].stop().await;
    cluster
        .wait_for("the other master to take the lease", |c| {
            c.primaries() == vec![secondary]
        })
        .await;
    let store = Store::connect(&cluster.db.config()).await.unwrap();
    let lease = store.current_lease().await.unwrap();
    assert_eq!(
        lease.holder,
        cluster.nodes[secondary].id(),
        "{}",
        cluster.picture().await
    );
    assert_eq!(lease.epoch, epoch + 1, "{}", cluster.picture().await);
    let (status, body) = cluster
        .call(
            secondary,
            reqwest::Method::GET,
            "/v1/account/shards",
            Value::Null,
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // A clean stop leaves the directory and frees the lease at once.
    let leaving = cluster.nodes[secondary].state.clone();
    cluster.nodes[secondary].stop_cleanly().await;
    let nodes = store.cluster_nodes().await.unwrap();
    assert!(
        nodes.iter().all(|n| n.node_id != leaving.cluster.node_id),
        "{}",
        cluster.picture().await
    );
    let now = store.database_time_ms().await.unwrap();
    assert!(store.current_lease().await.unwrap().expires_ms <= now);
}

async fn a_standby_takes_the_shard_of_a_stopped_coreapp(backend: Backend) {
    let mut cluster = Cluster::new(backend).await;
    let master = cluster.start(true, None).await;
    cluster.start(false, None).await;
    cluster.start(false, None).await;
    cluster
        .wait_for("a primary and one shard holder", |c| {
            c.primaries().len() == 1 && c.holders().len() == 1
        })
        .await;
    let first = cluster.holders()[0];
    let standby = if first == 1 { 2 } else { 1 };
    let held = cluster.nodes[first].state.cluster.shard().unwrap();

    cluster.nodes[first].stop().await;
    cluster
        .wait_for("the standby to take shard 0", |c| {
            c.holders() == vec![standby]
        })
        .await;
    let taken = cluster.nodes[standby].state.cluster.shard().unwrap();
    assert_eq!((taken.index, taken.count), (0, 1));
    assert!(taken.epoch > held.epoch, "{}", cluster.picture().await);
    cluster.nodes[standby].stop().await;
    cluster.nodes[master].stop().await;
}

async fn a_coreapp_cut_off_from_the_database_fences_itself(backend: Backend) {
    let mut cluster = Cluster::new(backend).await;
    let master = cluster.start(true, None).await;
    cluster.register(master).await;
    let proxy = Proxy::start(&cluster.db.url).await;
    let cut_off = cluster.start(false, Some(proxy.url.clone())).await;
    cluster
        .wait_for("the coreapp connected with its shard", |c| {
            c.nodes[cut_off].state.is_ready()
        })
        .await;

    proxy.cut();
    cluster
        .wait_for("the cut-off coreapp to fence itself", |c| {
            let state = &c.nodes[cut_off].state;
            state.cluster.shard().is_none() && !state.is_ready() && state.session().is_none()
        })
        .await;
    assert!(!cluster.nodes[cut_off]
        .state
        .cluster
        .may_send("447400900999"));
    cluster.nodes[cut_off].stop().await;
    cluster.nodes[master].stop().await;
}

async fn two_shards_are_held_by_two_scoped_coreapps(backend: Backend) {
    let mut cluster = Cluster::new(backend).await;
    let master = cluster.start(true, None).await;
    cluster
        .wait_for("a primary master", |c| c.primaries() == vec![master])
        .await;
    cluster.register(master).await;
    for _ in 0..3 {
        cluster.start(false, None).await;
    }
    // Spec §9.1's pictures: with one shard (HA) the primary master is disconnected, with
    // Multiconnect it is connected.
    cluster.wait_for_gateway(master, "disconnected").await;
    let shards = json!({"cc": "44", "phone_number": "7400900123", "shards": 2, "cert": "c2VydA=="});
    let (status, body) = cluster
        .call(master, reqwest::Method::POST, "/v1/account/shards", shards)
        .await;
    assert_eq!(status, 201, "{body}");
    cluster
        .wait_for("two coreapps holding shards 0 and 1 of 2", |c| {
            let mut held: Vec<(u32, u32)> = c
                .holders()
                .iter()
                .filter_map(|i| c.nodes[*i].state.cluster.shard())
                .map(|h| (h.index, h.count))
                .collect();
            held.sort();
            held == vec![(0, 2), (1, 2)]
        })
        .await;
    let holder = cluster.holders()[0];
    let hold = cluster.nodes[holder].state.cluster.shard().unwrap();
    let foreign = (0..1000)
        .map(|n| format!("4474009{n:05}"))
        .find(|wa_id| shard_of(wa_id, 2) != hold.index)
        .unwrap();
    let send = json!({"to": foreign, "type": "text", "text": {"body": "hi"}});
    let (status, body) = cluster
        .call(holder, reqwest::Method::POST, "/v1/messages", send)
        .await;
    assert_eq!((status, code_of(&body)), (500, 1018), "{body}");
    cluster.wait_for_gateway(master, "connected").await;
    let (_, health) = cluster
        .call(
            holder,
            reqwest::Method::GET,
            "/rpc/gateway_status",
            Value::Null,
        )
        .await;
    assert_eq!(health["role"], "coreapp", "{health}");
    for node in &mut cluster.nodes {
        if node.supervisor.is_some() {
            node.stop().await;
        }
    }
}

async fn a_second_single_node_waits_while_the_first_is_live(backend: Backend) {
    let mut cluster = Cluster::new(backend).await;
    let first = cluster.start_as(None, None).await;
    cluster
        .wait_for("the first single node to claim the number", |c| {
            c.nodes[first].state.cluster.shard().is_some()
        })
        .await;
    cluster.register(first).await;
    cluster
        .wait_for("the first single node to connect as the number", |c| {
            c.nodes[first].state.is_ready()
        })
        .await;
    let second = cluster.start_as(None, None).await;
    cluster
        .wait_for(
            "the second single node to see the first and stay disconnected",
            |c| c.nodes[second].state.gateway() == wa_api::health::GatewayStatus::Disconnected,
        )
        .await;
    assert!(
        cluster.nodes[second].state.cluster.shard().is_none(),
        "{}",
        cluster.picture().await
    );
    assert!(cluster.nodes[second].state.session().is_none());

    cluster.nodes[first].stop_cleanly().await;
    cluster
        .wait_for("the second single node to take over", |c| {
            c.nodes[second].state.cluster.shard().is_some()
        })
        .await;
    cluster.nodes[second].stop().await;
}

/// A TCP proxy in front of the database that the test can cut, like a network partition.
struct Proxy {
    url: String,
    stop: CancellationToken,
}

impl Proxy {
    async fn start(db_url: &str) -> Proxy {
        let mut url = url::Url::parse(db_url).unwrap();
        let target = format!(
            "{}:{}",
            url.host_str().unwrap(),
            url.port_or_known_default().unwrap()
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(listener.local_addr().unwrap().port()))
            .unwrap();
        let stop = CancellationToken::new();
        let token = stop.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = token.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((mut client, _)) = accepted else {
                    return;
                };
                let (target, token) = (target.clone(), token.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = token.cancelled() => {}
                        _ = copy_bidirectional(&mut client, &mut server) => {}
                    }
                });
            }
        });
        Proxy {
            url: url.to_string(),
            stop,
        }
    }

    /// Closes every connection and refuses new ones.
    fn cut(&self) {
        self.stop.cancel();
    }
}
