//! A binary under test as a child process: started with a clean environment and its output in a
//! log file, waited for until it listens, signalled, stopped, and killed when dropped.

use std::collections::HashMap;
use std::fs::File;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub use rustix::process::Signal;

/// How often a wait looks again (a connection attempt to a closed loopback port costs
/// microseconds; the bench's cold-start numbers are only as fine as this).
const POLL: Duration = Duration::from_millis(10);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0} not found: build the binaries first (`cargo build --workspace --bins`)")]
    NotFound(PathBuf),
    #[error("{name} exited with {status}; last log lines:\n{log}")]
    Exited {
        name: String,
        status: ExitStatus,
        log: String,
    },
    #[error("{name}: {what} within {timeout:?}; last log lines:\n{log}")]
    Timeout {
        name: String,
        what: String,
        timeout: Duration,
        log: String,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// What to start: a binary, its arguments, the environment it gets on top of the parent's
/// (minus the product's own variables), and where its output goes.
pub struct Start<'a> {
    /// The name used in messages (`coreapp`, `coreapp-restart`, ...).
    pub name: &'a str,
    pub binary: &'a Path,
    pub args: &'a [&'a str],
    pub env: &'a HashMap<String, String>,
    pub log: &'a Path,
}

/// Variables of the product (and of its simulator) that a developer's shell may hold; removed so
/// the shell cannot change what a test checks or what the bench measures.
fn is_product_variable(key: &str) -> bool {
    key.starts_with("ONPREM")
        || key.starts_with("WA_")
        || key.starts_with("WANET_")
        || key == "WACORE_HOSTNAME"
}

/// A running binary; killed when dropped.
pub struct Process {
    name: String,
    child: Child,
    log_path: PathBuf,
    started: Instant,
}

impl Process {
    pub fn start(start: &Start<'_>) -> Result<Process, Error> {
        if !start.binary.exists() {
            return Err(Error::NotFound(start.binary.to_path_buf()));
        }
        let log_what = || format!("create the log file {}", start.log.display());
        let log = File::create(start.log).map_err(io(log_what()))?;
        let mut command = Command::new(start.binary);
        command
            .args(start.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(io(log_what()))?)
            .stderr(log);
        for (key, _) in std::env::vars_os() {
            if key.to_str().is_some_and(is_product_variable) {
                command.env_remove(key);
            }
        }
        command.envs(start.env);
        let started = Instant::now();
        let child = command
            .spawn()
            .map_err(io(format!("start {}", start.binary.display())))?;
        Ok(Process {
            name: start.name.to_string(),
            child,
            log_path: start.log.to_path_buf(),
            started,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// When the process was spawned: the zero of cold-start measurements.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Everything the process has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The last `lines` lines of the log, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = self.log();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The exit status if the process has exited.
    pub fn exit_status(&mut self) -> Result<Option<ExitStatus>, Error> {
        let what = format!("check whether {} is running", self.name);
        self.child.try_wait().map_err(io(what))
    }

    /// Fails with the log when the process has exited, so a wait does not run into its timeout.
    pub fn check_alive(&mut self) -> Result<(), Error> {
        match self.exit_status()? {
            Some(status) => Err(Error::Exited {
                name: self.name.clone(),
                status,
                log: self.log_tail(40),
            }),
            None => Ok(()),
        }
    }

    /// One look at `addr`: `Some(time since spawn)` once it accepts connections.
    fn probe(&mut self, addr: SocketAddr) -> Result<Option<Duration>, Error> {
        self.check_alive()?;
        Ok(TcpStream::connect_timeout(&addr, Duration::from_secs(1))
            .ok()
            .map(|_| self.started.elapsed()))
    }

    fn timeout(&self, what: String, timeout: Duration) -> Error {
        Error::Timeout {
            name: self.name.clone(),
            what,
            timeout,
            log: self.log_tail(40),
        }
    }

    /// Waits until `port` accepts TCP connections on the loopback; returns the time since the
    /// spawn.
    pub fn wait_for_port(&mut self, port: u16, timeout: Duration) -> Result<Duration, Error> {
        self.wait_for_addr(SocketAddr::from(([127, 0, 0, 1], port)), timeout)
    }

    /// Waits until `addr` accepts TCP connections; returns the time since the spawn.
    pub fn wait_for_addr(
        &mut self,
        addr: SocketAddr,
        timeout: Duration,
    ) -> Result<Duration, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(elapsed) = self.probe(addr)? {
                return Ok(elapsed);
            }
            if Instant::now() > deadline {
                return Err(self.timeout(format!("did not listen on {addr}"), timeout));
            }
            std::thread::sleep(POLL);
        }
    }

    /// [`Process::wait_for_port`] for async callers: sleeps without holding a runtime thread.
    pub async fn wait_for_port_async(
        &mut self,
        port: u16,
        timeout: Duration,
    ) -> Result<Duration, Error> {
        let deadline = Instant::now() + timeout;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        loop {
            if let Some(elapsed) = self.probe(addr)? {
                return Ok(elapsed);
            }
            if Instant::now() > deadline {
                return Err(self.timeout(format!("did not listen on port {port}"), timeout));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for the process to exit by itself; returns its exit code (`None` when a signal
    /// ended it).
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<Option<i32>, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status()? {
                return Ok(status.code());
            }
            if Instant::now() > deadline {
                return Err(self.timeout("still running".into(), timeout));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Sends `signal` (e.g. `Signal::STOP` to freeze the process, `Signal::CONT` to resume it).
    pub fn signal(&self, signal: Signal) -> Result<(), Error> {
        let what = || format!("signal {} (pid {})", self.name, self.pid());
        let pid = i32::try_from(self.pid())
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .ok_or_else(|| Error::Io {
                what: what(),
                source: std::io::ErrorKind::InvalidInput.into(),
            })?;
        rustix::process::kill_process(pid, signal).map_err(|e| Error::Io {
            what: what(),
            source: e.into(),
        })
    }

    /// SIGTERM (what `docker stop` sends), then SIGKILL if it has not exited after `grace`.
    pub async fn stop_async(&mut self, grace: Duration) -> Result<(), Error> {
        if self.exit_status()?.is_some() {
            return Ok(());
        }
        self.signal(Signal::TERM)?;
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.exit_status()?.is_some() {
                return Ok(());
            }
            tokio::time::sleep(POLL).await;
        }
        self.kill();
        Ok(())
    }

    /// SIGKILL, and reaps the process.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Resident memory now and at its peak.
    pub fn memory(&self) -> Result<crate::Memory, Error> {
        crate::procfs::memory_of(self.pid())
    }

    /// User + system CPU seconds the process has used so far.
    pub fn cpu_seconds(&self) -> Result<f64, Error> {
        crate::procfs::cpu_seconds(self.pid())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sleeper(log: &Path) -> Process {
        let env = HashMap::new();
        Process::start(&Start {
            name: "sleep",
            binary: Path::new("/bin/sleep"),
            args: &["60"],
            env: &env,
            log,
        })
        .unwrap()
    }

    #[test]
    fn signals_stop_and_resume_then_kill_ends() {
        let dir = tempfile::tempdir().unwrap();
        let mut process = sleeper(&dir.path().join("sleep.log"));
        process.signal(Signal::STOP).unwrap();
        process.signal(Signal::CONT).unwrap();
        process.check_alive().unwrap();
        process.kill();
        assert!(process.check_alive().is_err());
    }

    #[tokio::test]
    async fn stop_terminates() {
        let dir = tempfile::tempdir().unwrap();
        let mut process = sleeper(&dir.path().join("sleep.log"));
        process.stop_async(Duration::from_secs(30)).await.unwrap();
        assert!(process.exit_status().unwrap().is_some());
    }

    #[test]
    fn a_missing_binary_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let env = HashMap::new();
        let missing = Process::start(&Start {
            name: "missing",
            binary: Path::new("/nonexistent/binary"),
            args: &[],
            env: &env,
            log: &dir.path().join("missing.log"),
        });
        assert!(matches!(missing, Err(Error::NotFound(_))));
    }
}
