//! The stack under test: wanet, the coreapp and the webapp as child processes on one database
//! (through `wa-harness`), with the clients that drive them and the readings of their CPU time
//! and memory.

use crate::api::{Api, Wanet, BUSINESS_WA_ID};
use crate::cpu;
use crate::plan::Plan;
use crate::procs::{Launcher, START_TIMEOUT, STOP_TIMEOUT};
use crate::report::{ms, Report};
use anyhow::{bail, Result};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use wa_harness::procfs;
use wa_harness::{Memory, Process};
use wa_store::testing::TEST_SECRETS_KEY;

/// Processes whose CPU time is charged to "db" in the per-phase CPU breakdown.
const DB_PROCESS_NAMES: &[&str] = &["mariadbd", "mysqld", "postgres"];

/// wanet's phones: quick receipts so phases settle fast, a fixed seed so runs compare.
const DELIVERY_LATENCY_MS: u64 = 100;
const READ_LATENCY_MS: u64 = 200;
/// The three processes on one database, and the clients that drive them.
pub struct Stack {
    pub launcher: Launcher,
    pub wanet_proc: Process,
    pub core: Process,
    pub web: Process,
    pub core_port: u16,
    pub core_env: HashMap<String, String>,
    pub restarts: usize,
    pub api: Api,
    pub wanet: Wanet,
}

/// What the load phases need of a running stack, one coreapp or a cluster.
pub trait Measured {
    fn api(&self) -> &Api;
    fn wanet(&self) -> &Wanet;
    /// CPU seconds used so far per process group (`webapp`, `coreapp`, `wanet`, `db`, ...).
    fn cpu(&self) -> Result<cpu::CpuSnapshot>;
}

/// Starts wanet with the bench's phones; returns it with its protocol and control ports.
pub async fn start_wanet(launcher: &Launcher, plan: &Plan) -> Result<(Process, u16, u16)> {
    let (net_port, control_port) = (wa_harness::free_port()?, wa_harness::free_port()?);
    let delivery = if plan.silent_phones {
        // Receipts an hour away never arrive during the run.
        3_600_000
    } else {
        DELIVERY_LATENCY_MS
    };
    let read_probability = if plan.silent_phones { "0" } else { "0.92" };
    let args: Vec<String> = [
        "--listen",
        &format!("127.0.0.1:{net_port}"),
        "--control-listen",
        &format!("127.0.0.1:{control_port}"),
        "--delivery-latency-ms",
        &delivery.to_string(),
        "--read-latency-ms",
        &READ_LATENCY_MS.to_string(),
        "--read-probability",
        read_probability,
        "--seed",
        "7",
        // The benchmark measures this stack, not the network's per-number limit.
        "--rate-limits",
        "off",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut wanet_proc = launcher.start("wanet", "wanet", &args, &HashMap::new())?;
    wanet_proc
        .wait_for_port_async(control_port, START_TIMEOUT)
        .await?;
    wanet_proc
        .wait_for_port_async(net_port, START_TIMEOUT)
        .await?;
    Ok((wanet_proc, net_port, control_port))
}

/// The variables that switch the webapp's request-rate limits off and give it the monitoring
/// key, on `port`.
pub fn webapp_env(db_url: &str, port: u16, core_port: u16) -> HashMap<String, String> {
    [
        ("ONPREM__DATABASE__URL", db_url.to_string()),
        // The key the secrets in the database are sealed with; every process shares it.
        ("WA_SECRETS_KEY", TEST_SECRETS_KEY.to_string()),
        ("WA_API_KEY", "bench-monitoring-key-0123".to_string()),
        ("WACORE_HOSTNAME", "127.0.0.1".to_string()),
        ("ONPREM__WEBAPP__COREAPP_PORT", core_port.to_string()),
        ("ONPREM__WEBAPP__LISTEN", format!("127.0.0.1:{port}")),
        // The per-process request-rate limits of spec §10 (50 sends/s by default) cap the
        // rate by design; the targets are about capacity, so the bench turns them off.
        ("ONPREM__WEBAPP__MESSAGES_RATE_PER_SEC", "0".to_string()),
        ("ONPREM__WEBAPP__ENDPOINT_RATE_PER_SEC", "0".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// CPU seconds of the database server's processes so far (PostgreSQL's backends come and go;
/// the live ones are what we have).
pub fn db_cpu_seconds() -> f64 {
    procfs::pids_named(DB_PROCESS_NAMES)
        .into_iter()
        .filter_map(|pid| procfs::cpu_seconds(pid).ok())
        .sum()
}

impl Stack {
    pub async fn start(
        launcher: &Launcher,
        db_url: &str,
        plan: &Plan,
        report: &mut Report,
    ) -> Result<Stack> {
        let (wanet_proc, net_port, control_port) = start_wanet(launcher, plan).await?;

        let core_port = wa_harness::free_port()?;
        let core_env: HashMap<String, String> = [
            ("ONPREM__DATABASE__URL", db_url.to_string()),
            ("WA_SECRETS_KEY", TEST_SECRETS_KEY.to_string()),
            ("ONPREM__COREAPP__LISTEN", format!("127.0.0.1:{core_port}")),
            (
                "ONPREM__COREAPP__NETWORK_ADDRESS",
                format!("127.0.0.1:{net_port}"),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let mut core = launcher.start("coreapp", "coreapp", &[], &core_env)?;
        let core_first = core.wait_for_port_async(core_port, START_TIMEOUT).await?;
        report.number(
            "coreapp first start (new database, migrations) to listening",
            ms(core_first),
            "ms",
            None,
        );

        let web_port = wa_harness::free_port()?;
        let web_env = webapp_env(db_url, web_port, core_port);
        let mut web = launcher.start("webapp", "webapp", &[], &web_env)?;
        let web_start = web.wait_for_port_async(web_port, START_TIMEOUT).await?;
        report.number("webapp start to listening", ms(web_start), "ms", None);

        let api = Api::first_login(Api::http_client()?, web_port).await?;
        let wanet = Wanet::new(control_port)?;
        Ok(Stack {
            launcher: launcher.clone(),
            wanet_proc,
            core,
            web,
            core_port,
            core_env,
            restarts: 0,
            api,
            wanet,
        })
    }

    /// Stops the coreapp and waits until the network has noticed (so pushes queue there).
    pub async fn stop_coreapp(&mut self) -> Result<()> {
        self.core.stop_async(STOP_TIMEOUT).await?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let business = self.wanet.business(BUSINESS_WA_ID).await?;
            if business["connected"] == false {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("wanet still sees the business connected 30 s after the coreapp stopped");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A new coreapp on the same port and database; returns the time from spawn to listening.
    pub async fn start_coreapp(&mut self) -> Result<Duration> {
        self.restarts += 1;
        let name = format!("coreapp.{}", self.restarts);
        let core = self.launcher.start("coreapp", &name, &[], &self.core_env)?;
        self.core = core;
        Ok(self
            .core
            .wait_for_port_async(self.core_port, START_TIMEOUT)
            .await?)
    }

    pub fn memory(&self) -> Result<[(&'static str, Memory); 3]> {
        Ok([
            ("webapp", self.web.memory()?),
            ("coreapp", self.core.memory()?),
            ("wanet", self.wanet_proc.memory()?),
        ])
    }
}

impl Measured for Stack {
    fn api(&self) -> &Api {
        &self.api
    }

    fn wanet(&self) -> &Wanet {
        &self.wanet
    }

    fn cpu(&self) -> Result<cpu::CpuSnapshot> {
        let mut snapshot = cpu::CpuSnapshot::default();
        for (name, proc) in [
            ("webapp", &self.web),
            ("coreapp", &self.core),
            ("wanet", &self.wanet_proc),
        ] {
            snapshot.0.insert(name.to_string(), proc.cpu_seconds()?);
        }
        snapshot.0.insert(
            "bench".to_string(),
            procfs::cpu_seconds(std::process::id())?,
        );
        snapshot.0.insert("db".to_string(), db_cpu_seconds());
        Ok(snapshot)
    }
}
