//! The binaries under test as child processes, through the harness the end-to-end tests use too
//! (`wa-harness`): started with a clean environment, logged to files under the output directory.

use anyhow::Result;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use wa_harness::{Process, Start};

/// How long a process may take to listen before the bench gives up (a debug build on a busy
/// machine with a database that runs its migrations can take a while).
pub const START_TIMEOUT: Duration = Duration::from_secs(120);
/// Grace period after SIGTERM before the process is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the binaries are, and where their logs go.
#[derive(Clone)]
pub struct Launcher {
    pub bin_dir: PathBuf,
    pub log_dir: PathBuf,
}

impl Launcher {
    /// Starts binary `name` with `args` and `env`, logging to `<log_name>.log`.
    pub fn start(
        &self,
        name: &str,
        log_name: &str,
        args: &[String],
        env: &HashMap<String, String>,
    ) -> Result<Process> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Ok(Process::start(&Start {
            name: log_name,
            binary: &self.bin_dir.join(name),
            args: &args,
            env,
            log: &self.log_dir.join(format!("{log_name}.log")),
        })?)
    }
}
