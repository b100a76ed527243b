//! A High Availability / Multiconnect deployment of real processes: wanet, N masters and M
//! coreapps (the `coreapp` binary with Meta's variables) on one database, and a webapp in
//! cluster mode. Heartbeats are fast and `unhealthy_interval` short so failovers take seconds;
//! every wait polls a condition with a generous deadline and prints the cluster's state.

use crate::stack::Running;
use crate::stack::{
    wanet, webapp, Wanet, BUSINESS_CC, BUSINESS_NUMBER, BUSINESS_WA_ID, FAST_PHONES,
};
use crate::{free_port, Client, Service};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How often nodes heartbeat in these tests.
pub const HEARTBEAT_MS: u64 = 250;
/// After how long without a heartbeat a node is unhealthy (and the lease lapses).
pub const UNHEALTHY_MS: u64 = 3000;
/// Deadline of every wait for the cluster to reach a state.
pub const CLUSTER_WAIT: Duration = Duration::from_secs(120);

/// One master or coreapp process.
pub struct Node {
    pub service: Option<Service>,
    /// Where it listens: the loopback, or its network namespace's address.
    pub host: String,
    pub port: u16,
    pub master: bool,
}

pub struct ClusterStack {
    pub wanet: Wanet,
    pub nodes: Vec<Node>,
    pub web: Running,
    pub admin: String,
    /// The variables every node shares (database, cluster switches, timings).
    env: HashMap<String, String>,
    http: reqwest::blocking::Client,
}

/// How often nodes heartbeat and after how long without one a node is unhealthy.
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    pub heartbeat_ms: u64,
    pub unhealthy_ms: u64,
}

/// [`HEARTBEAT_MS`] and [`UNHEALTHY_MS`].
pub const FAST: Timings = Timings {
    heartbeat_ms: HEARTBEAT_MS,
    unhealthy_ms: UNHEALTHY_MS,
};

/// The variables every node and the webapp share: Meta's cluster switches and fast timings.
fn cluster_env(db_url: &str, timings: Timings) -> HashMap<String, String> {
    crate::stack::env(&[
        ("ONPREM__DATABASE__URL", db_url),
        ("WA_APP_MULTICONNECT", "1"),
        ("COREAPP_HOSTNAME", "127.0.0.1"),
        (
            "ONPREM__CLUSTER__HEARTBEAT_INTERVAL_MS",
            &timings.heartbeat_ms.to_string(),
        ),
        (
            "ONPREM__CLUSTER__UNHEALTHY_INTERVAL_MS",
            &timings.unhealthy_ms.to_string(),
        ),
    ])
}

fn start_node(env: &HashMap<String, String>, wanet_port: u16, master: bool) -> Node {
    let port = free_port();
    let vars = node_env(
        env,
        "127.0.0.1",
        port,
        &format!("127.0.0.1:{wanet_port}"),
        master,
    );
    let mut service = Service::start("coreapp", &[], &vars);
    service.wait_for_port(port);
    Node {
        service: Some(service),
        host: "127.0.0.1".into(),
        port,
        master,
    }
}

/// A node's variables: listening on `host:port` (advertised as `host`), reaching the network
/// at `wanet`.
fn node_env(
    env: &HashMap<String, String>,
    host: &str,
    port: u16,
    wanet: &str,
    master: bool,
) -> HashMap<String, String> {
    let mut vars = env.clone();
    vars.insert("ONPREM__COREAPP__LISTEN".into(), format!("{host}:{port}"));
    vars.insert("COREAPP_HOSTNAME".into(), host.into());
    vars.insert("ONPREM__COREAPP__NETWORK_ADDRESS".into(), wanet.into());
    vars.insert(
        "WA_MASTER_NODE".into(),
        if master { "1" } else { "0" }.into(),
    );
    crate::stack::with_secrets_key(&mut vars);
    vars
}

impl ClusterStack {
    /// Starts wanet, `masters` masters, `coreapps` coreapps and the webapp on `db_url`; waits for
    /// a primary master, logs the admin in and points the webhooks at `webhook_url`.
    pub fn start(db_url: &str, masters: usize, coreapps: usize, webhook_url: &str) -> Self {
        Self::start_with(db_url, masters, coreapps, webhook_url, FAST)
    }

    /// [`ClusterStack::start`] with other heartbeat timings.
    pub fn start_with(
        db_url: &str,
        masters: usize,
        coreapps: usize,
        webhook_url: &str,
        timings: Timings,
    ) -> Self {
        let wanet = wanet(FAST_PHONES);
        let env = cluster_env(db_url, timings);
        let nodes: Vec<Node> = (0..masters + coreapps)
            .map(|i| start_node(&env, wanet.port, i < masters))
            .collect();
        let web = webapp(&env, nodes[0].port);
        let admin = web.client.first_login(crate::ADMIN_PASSWORD);
        let stack = ClusterStack {
            wanet,
            nodes,
            web,
            admin,
            env,
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        };
        stack.wait_for("a primary master", |s| s.primary_master().is_some());
        let settings = json!({
            "webhooks": { "url": webhook_url, "message": { "sent": true, "delivered": true, "read": true } },
            "callback_backoff_delay_ms": 200,
            "max_callback_backoff_delay_ms": 1000,
        });
        stack
            .api()
            .call(
                "PATCH",
                "/v1/settings/application",
                Some(&stack.admin),
                Some(settings),
            )
            .expect_status(200);
        stack
    }

    pub fn api(&self) -> &Client {
        &self.web.client
    }

    /// Starts one more coreapp (not a master) on the loopback; returns its index.
    pub fn add_coreapp(&mut self) -> usize {
        let node = start_node(&self.env, self.wanet.port, false);
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Starts one more coreapp inside `netns`, reaching the database at `db_url` and the
    /// network at `wanet` (addresses the test relays from the host side of the veth); returns
    /// its index.
    pub fn add_coreapp_in(
        &mut self,
        netns: &crate::netns::Netns,
        db_url: &str,
        wanet: &str,
    ) -> usize {
        let host = netns.inner_ip().to_string();
        let port = free_port();
        let mut vars = node_env(&self.env, &host, port, wanet, false);
        vars.insert("ONPREM__DATABASE__URL".into(), db_url.into());
        let mut service = Service::start_in_netns(&netns.name, "coreapp", &[], &vars);
        service.wait_for_addr(std::net::SocketAddr::new(netns.inner_ip().into(), port));
        self.nodes.push(Node {
            service: Some(service),
            host,
            port,
            master: false,
        });
        self.nodes.len() - 1
    }

    /// What node `index` says of itself (`gateway_status`, `node`, `role`), or `None` when it
    /// does not answer (stopped, killed).
    pub fn node_status(&self, index: usize) -> Option<Value> {
        let node = &self.nodes[index];
        node.service.as_ref()?;
        let url = format!("http://{}:{}/rpc/gateway_status", node.host, node.port);
        let response = self.http.get(url).send().ok()?;
        response.json().ok()
    }

    /// Index of the node whose role is the primary master.
    pub fn primary_master(&self) -> Option<usize> {
        (0..self.nodes.len()).find(|&i| {
            self.node_status(i)
                .is_some_and(|s| s["role"] == "primary_master")
        })
    }

    /// Indexes of the coreapps (not masters) connected to the network.
    pub fn connected_coreapps(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| !self.nodes[i].master)
            .filter(|&i| {
                self.node_status(i)
                    .is_some_and(|s| s["gateway_status"] == "connected")
            })
            .collect()
    }

    /// `GET /v1/health` through the webapp: every node's entry by key.
    pub fn health(&self) -> Map<String, Value> {
        let r = self
            .api()
            .call("GET", "/v1/health", Some(&self.admin), None);
        r.body["health"].as_object().cloned().unwrap_or_default()
    }

    /// Everything the tests look at, for assertion messages.
    pub fn state(&self) -> String {
        let nodes: Vec<Value> = (0..self.nodes.len())
            .map(|i| {
                json!({ "host": self.nodes[i].host, "port": self.nodes[i].port, "master": self.nodes[i].master,
                        "status": self.node_status(i) })
            })
            .collect();
        let (_, shards) = self
            .wanet
            .get(&format!("/control/businesses/{BUSINESS_WA_ID}/shards"));
        format!(
            "nodes: {}\nhealth: {}\nwanet shards: {shards}",
            Value::Array(nodes),
            Value::Object(self.health())
        )
    }

    /// Polls until `ready` holds; panics with the cluster state after [`CLUSTER_WAIT`].
    pub fn wait_for(&self, what: &str, ready: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + CLUSTER_WAIT;
        while !ready(self) {
            assert!(
                Instant::now() < deadline,
                "waited {CLUSTER_WAIT:?} for {what}\n{}",
                self.state()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Registers the business number through the webapp (master-only calls, so on the primary
    /// master) and waits until `coreapps` coreapps are connected.
    pub fn register(&self, coreapps: usize) {
        let cert = self.wanet.cert("Acme Corp");
        let body = json!({ "cc": BUSINESS_CC, "phone_number": BUSINESS_NUMBER, "method": "sms", "cert": cert });
        self.api()
            .call("POST", "/v1/account", Some(&self.admin), Some(body))
            .expect_status(202);
        let (status, code) = self.wanet.get(&format!("/control/codes/{BUSINESS_WA_ID}"));
        assert_eq!(status, 200, "{code}");
        let code = code["code"].as_str().unwrap();
        let dashed = format!("{}-{}", &code[..3], &code[3..]);
        self.api()
            .call(
                "POST",
                "/v1/account/verify",
                Some(&self.admin),
                Some(json!({ "code": dashed })),
            )
            .expect_status(201);
        self.wait_for(&format!("{coreapps} connected coreapp(s)"), |s| {
            s.connected_coreapps().len() == coreapps
        });
    }

    /// `POST /v1/account/shards` with `shards`; waits until that many coreapps are connected.
    pub fn set_shards(&self, shards: usize) {
        let cert = self.wanet.cert("Acme Corp");
        let body = json!({ "cc": BUSINESS_CC, "phone_number": BUSINESS_NUMBER, "shards": shards, "cert": cert });
        self.api()
            .call("POST", "/v1/account/shards", Some(&self.admin), Some(body))
            .expect_status(201);
        self.wait_for(&format!("{shards} shard sessions"), |s| {
            s.shard_sessions().len() == shards && s.connected_coreapps().len() == shards
        });
    }

    /// The network's sessions of the number (`GET /control/businesses/{wa_id}/shards`).
    pub fn shard_sessions(&self) -> Vec<Value> {
        let (_, body) = self
            .wanet
            .get(&format!("/control/businesses/{BUSINESS_WA_ID}/shards"));
        body["sessions"].as_array().cloned().unwrap_or_default()
    }

    /// The network's last sessions of the number that ended, with when and why.
    pub fn ended_sessions(&self) -> Vec<Value> {
        let (_, body) = self
            .wanet
            .get(&format!("/control/businesses/{BUSINESS_WA_ID}/shards"));
        body["ended"].as_array().cloned().unwrap_or_default()
    }

    /// Sends a text through the webapp.
    pub fn send_text(&self, to: &str, body: &str) -> crate::Reply {
        let message = json!({ "to": to, "type": "text", "text": { "body": body } });
        self.api()
            .call("POST", "/v1/messages", Some(&self.admin), Some(message))
    }

    /// Sends until the webapp accepts (201), riding out a failover; returns the message id.
    pub fn send_until_accepted(&self, to: &str, body: &str) -> String {
        let deadline = Instant::now() + CLUSTER_WAIT;
        loop {
            let r = self.send_text(to, body);
            if r.status == 201 {
                return r.body["messages"][0]["id"].as_str().unwrap().to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no send accepted for {CLUSTER_WAIT:?}: {} {}\n{}",
                r.status,
                r.body,
                self.state()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILLs node `index` (and forgets it).
    pub fn kill(&mut self, index: usize) {
        if let Some(mut service) = self.nodes[index].service.take() {
            service.kill();
        }
    }
}
