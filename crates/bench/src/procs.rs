//! The binaries under test as child processes: started with a clean environment, logged to files
//! under the output directory, measured through `/proc`.

use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a process may take to listen before the bench gives up (a debug build on a busy
/// machine with a database that runs its migrations can take a while).
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// Grace period after SIGTERM before the process is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A port that was free a moment ago. The bench starts its processes one after the other, so the
/// window in which another program could take the port is short.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("bind a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// Where the binaries are, and where their logs go.
#[derive(Clone)]
pub struct Launcher {
    pub bin_dir: PathBuf,
    pub log_dir: PathBuf,
}

impl Launcher {
    /// Starts `name` with `args` and exactly `env` on top of the parent's environment minus the
    /// product's own variables, so a developer's shell cannot change what is measured.
    pub fn start(
        &self,
        name: &str,
        log_name: &str,
        args: &[String],
        env: &HashMap<String, String>,
    ) -> Result<Proc> {
        let path = self.bin_dir.join(name);
        if !path.exists() {
            bail!(
                "{} not found: build it first (scripts/bench does: cargo build -p webapp -p coreapp -p wanet)",
                path.display()
            );
        }
        let log_path = self.log_dir.join(format!("{log_name}.log"));
        let log = File::create(&log_path)
            .with_context(|| format!("create the log file {}", log_path.display()))?;
        let mut command = Command::new(&path);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        for (key, _) in std::env::vars() {
            if key.starts_with("ONPREM")
                || key.starts_with("WA_")
                || key.starts_with("WANET_")
                || key == "WACORE_HOSTNAME"
            {
                command.env_remove(key);
            }
        }
        command.envs(env);
        let started = Instant::now();
        let child = command
            .spawn()
            .with_context(|| format!("start {}", path.display()))?;
        Ok(Proc {
            name: log_name.to_string(),
            child,
            log_path,
            started,
        })
    }
}

/// A running binary; killed when dropped.
pub struct Proc {
    pub name: String,
    child: Child,
    log_path: PathBuf,
    /// When `spawn` returned, the zero of the cold-start measurements.
    pub started: Instant,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last lines of the process's log, for error messages.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log_path, 40)
    }

    /// Fails when the process has exited (with its log), so waits do not run into a timeout.
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited with {status}; last log lines:\n{}",
                self.name,
                self.log_tail()
            );
        }
        Ok(())
    }

    /// Waits until `port` accepts TCP connections; returns the time since the spawn.
    pub async fn wait_for_port(&mut self, port: u16) -> Result<Duration> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            self.check_alive()?;
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(self.started.elapsed());
            }
            if Instant::now() > deadline {
                bail!(
                    "{} did not listen on port {port} within {START_TIMEOUT:?}; last log lines:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// SIGTERM (what `docker stop` sends), then SIGKILL if it does not exit in time.
    pub async fn stop(&mut self) -> Result<()> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        // `kill(1)` instead of libc: the workspace forbids unsafe code.
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .context("run kill -TERM")?;
        if status.success() {
            let deadline = Instant::now() + STOP_TIMEOUT;
            while Instant::now() < deadline {
                if self.child.try_wait()?.is_some() {
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        self.kill();
        Ok(())
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Resident memory now and at its peak, in MiB.
    pub fn memory(&self) -> Result<Memory> {
        memory_of(self.pid())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Memory {
    pub rss_mib: f64,
    pub peak_rss_mib: f64,
}

/// `VmRSS` and `VmHWM` from `/proc/<pid>/status` (Linux only, like the product's containers).
pub fn memory_of(pid: u32) -> Result<Memory> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
    let field = |name: &str| -> Result<f64> {
        let line = status
            .lines()
            .find(|line| line.starts_with(name))
            .with_context(|| format!("no {name} in {path}"))?;
        let kib: f64 = line
            .trim_start_matches(name)
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .with_context(|| format!("parse {line:?}"))?;
        Ok(kib / 1024.0)
    };
    Ok(Memory {
        rss_mib: field("VmRSS:")?,
        peak_rss_mib: field("VmHWM:")?,
    })
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
