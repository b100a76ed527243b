//! `--shards N`: the Multiconnect topology (2 masters, N coreapps each holding one shard, the
//! webapp in cluster mode reading the directory from the database and routing each send to
//! the coreapp of its recipient's shard), measured with the closed loop: end-to-end
//! messages/s and CPU per message, the coreapps' CPU summed and the masters' apart.

use crate::api::{Api, Wanet, BUSINESS_CC, BUSINESS_NUMBER};
use crate::cpu::CpuSnapshot;
use crate::plan::Plan;
use crate::procs::{Launcher, START_TIMEOUT};
use crate::receiver::Receiver;
use crate::stack::{db_cpu_seconds, start_wanet, webapp_env, Measured};
use crate::{progress, Bench};
use anyhow::{bail, Result};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use wa_harness::{procfs, Process};
use wa_store::testing::{TestDb, TEST_SECRETS_KEY};
use wa_store::Backend;

const MASTERS: usize = 2;
/// Faster than the defaults (5 s, 30 s) so the cluster forms quickly; a heartbeat is one small
/// write per node and second, nothing next to the load.
const HEARTBEAT_MS: &str = "1000";
const UNHEALTHY_MS: &str = "10000";
/// Longest wait for the cluster to reach a state (a primary, connected coreapps).
const FORM_LIMIT: Duration = Duration::from_secs(180);

pub struct ClusterStack {
    wanet_proc: Process,
    masters: Vec<Process>,
    coreapps: Vec<Process>,
    web: Process,
    api: Api,
    wanet: Wanet,
}

/// The variables of one node: Meta's cluster switches, its port, the network's address.
fn node_env(db_url: &str, port: u16, net_port: u16, master: bool) -> HashMap<String, String> {
    [
        ("ONPREM__DATABASE__URL", db_url.to_string()),
        ("WA_SECRETS_KEY", TEST_SECRETS_KEY.to_string()),
        ("WA_APP_MULTICONNECT", "1".to_string()),
        ("WA_MASTER_NODE", if master { "1" } else { "0" }.to_string()),
        ("COREAPP_HOSTNAME", "127.0.0.1".to_string()),
        ("ONPREM__COREAPP__LISTEN", format!("127.0.0.1:{port}")),
        (
            "ONPREM__COREAPP__NETWORK_ADDRESS",
            format!("127.0.0.1:{net_port}"),
        ),
        (
            "ONPREM__CLUSTER__HEARTBEAT_INTERVAL_MS",
            HEARTBEAT_MS.into(),
        ),
        (
            "ONPREM__CLUSTER__UNHEALTHY_INTERVAL_MS",
            UNHEALTHY_MS.into(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

impl ClusterStack {
    async fn start(launcher: &Launcher, db_url: &str, plan: &Plan, shards: usize) -> Result<Self> {
        let (wanet_proc, net_port, control_port) = start_wanet(launcher, plan).await?;
        let (mut masters, mut coreapps, mut first_port) = (Vec::new(), Vec::new(), 0);
        for i in 0..MASTERS + shards {
            let (port, master) = (wa_harness::free_port()?, i < MASTERS);
            let name = if master {
                format!("master{i}")
            } else {
                format!("coreapp{}", i - MASTERS)
            };
            let env = node_env(db_url, port, net_port, master);
            let mut node = launcher.start("coreapp", &name, &[], &env)?;
            node.wait_for_port_async(port, START_TIMEOUT).await?;
            if i == 0 {
                first_port = port;
            }
            if master {
                masters.push(node);
            } else {
                coreapps.push(node);
            }
        }
        let web_port = wa_harness::free_port()?;
        let mut env = webapp_env(db_url, web_port, first_port);
        env.insert("WA_APP_MULTICONNECT".into(), "1".into());
        env.insert(
            "ONPREM__CLUSTER__UNHEALTHY_INTERVAL_MS".into(),
            UNHEALTHY_MS.into(),
        );
        let mut web = launcher.start("webapp", "webapp", &[], &env)?;
        web.wait_for_port_async(web_port, START_TIMEOUT).await?;
        let api = Api::first_login(Api::http_client()?, web_port).await?;
        let wanet = Wanet::new(control_port)?;
        Ok(ClusterStack {
            wanet_proc,
            masters,
            coreapps,
            web,
            api,
            wanet,
        })
    }

    /// Polls the webapp's fanned-out `GET /v1/health` until `ready` holds for its nodes.
    async fn wait_for(&self, what: &str, ready: impl Fn(&[Value]) -> bool) -> Result<()> {
        let deadline = Instant::now() + FORM_LIMIT;
        loop {
            let (_, body) = self.api.call(Method::GET, "/v1/health", None).await?;
            let nodes: Vec<Value> = body["health"]
                .as_object()
                .map(|nodes| nodes.values().cloned().collect())
                .unwrap_or_default();
            if ready(&nodes) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the cluster did not reach {what} within {FORM_LIMIT:?}: {body}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn wait_connected(&self, count: usize) -> Result<()> {
        self.wait_for(&format!("{count} connected coreapp(s)"), |nodes| {
            let connected = nodes
                .iter()
                .filter(|n| n["role"] == "coreapp" && n["gateway_status"] == "connected");
            connected.count() == count
        })
        .await
    }

    async fn set_shards(&self, shards: u32) -> Result<()> {
        let cert = self.wanet.cert("Bench Corp").await?;
        let body = json!({ "cc": BUSINESS_CC, "phone_number": BUSINESS_NUMBER, "shards": shards, "cert": cert });
        self.api
            .expect(Method::POST, "/v1/account/shards", Some(body), 201)
            .await?;
        Ok(())
    }
}

impl Measured for ClusterStack {
    fn api(&self) -> &Api {
        &self.api
    }

    fn wanet(&self) -> &Wanet {
        &self.wanet
    }

    fn cpu(&self) -> Result<CpuSnapshot> {
        let sum =
            |procs: &[Process]| -> Result<f64> { procs.iter().map(|p| Ok(p.cpu_seconds()?)).sum() };
        let mut snapshot = CpuSnapshot::default();
        snapshot.0.insert("webapp".into(), self.web.cpu_seconds()?);
        snapshot.0.insert("coreapps".into(), sum(&self.coreapps)?);
        snapshot.0.insert("masters".into(), sum(&self.masters)?);
        snapshot
            .0
            .insert("wanet".into(), self.wanet_proc.cpu_seconds()?);
        snapshot
            .0
            .insert("bench".into(), procfs::cpu_seconds(std::process::id())?);
        snapshot.0.insert("db".into(), db_cpu_seconds());
        Ok(snapshot)
    }
}

impl Bench<'_> {
    /// `--shards N`: forms the cluster, registers, sets the shards and runs the closed loop.
    pub(crate) async fn multiconnect(
        &mut self,
        backend: Backend,
        launcher: &Launcher,
        shards: u32,
    ) -> Result<()> {
        if backend == Backend::Sqlite {
            bail!("--shards needs MySQL/MariaDB or PostgreSQL: SQLite is single-node");
        }
        progress(&format!(
            "starting wanet, {MASTERS} masters, {shards} coreapp(s) and the webapp (cluster mode)"
        ));
        let db = TestDb::new(backend);
        let receiver = Receiver::start().await?;
        let stack = ClusterStack::start(launcher, &db.url, &self.plan, shards as usize).await?;
        stack
            .wait_for("a primary master", |nodes| {
                nodes.iter().any(|n| n["role"] == "primary_master")
            })
            .await?;
        stack.api.point_webhooks_at(&receiver.url()).await?;
        stack.api.register(&stack.wanet).await?;
        stack.wait_connected(1).await?;
        if shards > 1 {
            progress(&format!("setting {shards} shards"));
            stack.set_shards(shards).await?;
            stack.wait_connected(shards as usize).await?;
        }
        self.report.info(
            "topology",
            format!(
                "{MASTERS} masters, {shards} coreapp(s) with a shard each, webapp in cluster mode"
            ),
        );
        let recipients = self.open_windows(&stack, &receiver).await?;
        self.closed_loop(&stack, &receiver, &recipients).await?;
        // Stop the processes before the database they use is dropped.
        drop(stack);
        drop(db);
        Ok(())
    }
}
