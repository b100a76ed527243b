//! What a run does: the command line, the database it runs on, and the plan of phases and sizes
//! derived from them (`--quick` is the CI-sized plan).

use crate::TARGET_OFFLINE;
use clap::{Parser, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;
use wa_store::Backend;

#[derive(Clone, Copy, ValueEnum)]
pub enum Db {
    Mysql,
    Postgres,
    Sqlite,
}

impl Db {
    pub fn backend(self) -> Backend {
        match self {
            Db::Mysql => Backend::Mysql,
            Db::Postgres => Backend::Postgres,
            Db::Sqlite => Backend::Sqlite,
        }
    }
}

/// Benchmark of the whole stack (wanet + coreapp + webapp) against design.md §7.
///
/// Server databases come from WA_TEST_MYSQL_URL / WA_TEST_POSTGRES_URL (defaults
/// mysql://wa_test:wa_test@127.0.0.1:3306 and postgres://wa_test:wa_test@127.0.0.1:5432); the
/// account must be allowed to create and drop databases. Every size below has a full-run default
/// and a smaller `--quick` one.
#[derive(Parser)]
#[command(version, about)]
pub struct Cli {
    /// A short run (well under a minute of load) for CI: smaller counts, shorter phases.
    #[arg(long)]
    pub quick: bool,
    /// The database the stack and the storage ceiling run on.
    #[arg(long, value_enum, default_value = "mysql")]
    pub db: Db,
    /// Where the webapp, coreapp and wanet binaries are (default: next to this one).
    #[arg(long)]
    pub bin_dir: Option<PathBuf>,
    /// Where results.json and the processes' logs go (default: target/bench).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Concurrent clients of the closed loop.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Seconds of closed-loop load (full 10, quick 2).
    #[arg(long)]
    pub closed_secs: Option<f64>,
    /// Arrival rates of the open loop, per second.
    #[arg(long, value_delimiter = ',', default_value = "100,500,1000")]
    pub rates: Vec<u32>,
    /// Seconds per open-loop rate (full 5, quick 1).
    #[arg(long)]
    pub rate_secs: Option<f64>,
    /// Messages in the inbound burst (full 20000, quick 500).
    #[arg(long)]
    pub inbound: Option<usize>,
    /// Messages queued while the coreapp is down (full 100000, quick 1000).
    #[arg(long)]
    pub offline: Option<usize>,
    /// Seconds per storage-ceiling measurement (full 5, quick 1).
    #[arg(long)]
    pub storage_secs: Option<f64>,
    /// Consumers with an open window that outbound messages go to, round-robin.
    #[arg(long, default_value_t = 50)]
    pub consumers: usize,
    /// Phones that never acknowledge (no delivered/read receipts): measures the send path alone.
    #[arg(long)]
    pub silent_phones: bool,
    /// The Multiconnect topology instead of one coreapp: 2 masters and N coreapps (1, 2, 4, 8,
    /// 16 or 32), each holding one shard, the webapp in cluster mode, on MySQL/MariaDB or
    /// PostgreSQL. Runs the closed loop only (end-to-end msg/s, CPU per message).
    #[arg(long)]
    pub shards: Option<u32>,
    /// Run only these phases (for profiling one of them); the stack is always started.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Phase>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Storage,
    Closed,
    Open,
    Inbound,
    Restart,
    Drain,
}

/// The sizes of one run.
#[derive(serde::Serialize)]
pub struct Plan {
    pub quick: bool,
    pub clients: usize,
    pub closed: Duration,
    pub warmup: Duration,
    pub rates: Vec<u32>,
    pub rate: Duration,
    pub inbound: usize,
    pub offline: usize,
    pub storage: Duration,
    pub consumers: usize,
    /// Longest wait for a phase's webhooks before the bench moves on (and says so).
    pub settle_limit: Duration,
    /// Open-loop requests in flight at most; beyond it they are skipped and counted as errors,
    /// which bounds how long an overloaded phase takes (small in `--quick`, for CI time).
    pub max_in_flight: usize,
    pub silent_phones: bool,
    pub phases: Vec<Phase>,
    /// `--shards`: the Multiconnect topology with this many shards.
    pub shards: Option<u32>,
}

impl Plan {
    pub fn runs(&self, phase: Phase) -> bool {
        self.phases.contains(&phase)
    }

    pub fn of(cli: &Cli) -> Plan {
        let (closed, rate, inbound, offline, storage, limit, in_flight) = if cli.quick {
            (2.0, 1.0, 500, 1_000, 1.0, 30, 64)
        } else {
            (10.0, 5.0, 20_000, TARGET_OFFLINE, 5.0, 600, 4096)
        };
        Plan {
            quick: cli.quick,
            clients: cli.clients.max(1),
            closed: Duration::from_secs_f64(cli.closed_secs.unwrap_or(closed)),
            warmup: Duration::from_secs_f64(if cli.quick { 0.5 } else { 2.0 }),
            rates: cli.rates.iter().copied().filter(|r| *r > 0).collect(),
            rate: Duration::from_secs_f64(cli.rate_secs.unwrap_or(rate)),
            inbound: cli.inbound.unwrap_or(inbound).max(1),
            offline: cli.offline.unwrap_or(offline).max(1),
            storage: Duration::from_secs_f64(cli.storage_secs.unwrap_or(storage)),
            consumers: cli.consumers.clamp(1, 9000),
            settle_limit: Duration::from_secs(limit),
            max_in_flight: in_flight,
            silent_phones: cli.silent_phones,
            shards: cli.shards,
            phases: if cli.only.is_empty() {
                vec![
                    Phase::Storage,
                    Phase::Closed,
                    Phase::Open,
                    Phase::Inbound,
                    Phase::Restart,
                    Phase::Drain,
                ]
            } else {
                cli.only.clone()
            },
        }
    }
}
