//! Child processes of the binaries under test, through the harness the bench uses too
//! (`wa-harness`); here every failure panics with the process's log, as a test should.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wa_harness::{Process, Signal, Start};

/// How long a service may take to listen (a debug build on a loaded machine, with migrations).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// A free loopback port, never handed out before in this test process (see `wa_harness::ports`).
pub fn free_port() -> u16 {
    wa_harness::free_port().expect("a free loopback port for a test service")
}

/// Path of a workspace binary next to the test executable (`target/<profile>/<name>`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    profile_dir.join(name)
}

/// A running binary; killed when dropped, its log printed when a test panics.
pub struct Service {
    pub name: String,
    process: Process,
    _log_dir: tempfile::TempDir,
}

impl Service {
    /// Starts `name` with `args` and exactly the given extra environment (the parent's `ONPREM_*`,
    /// `WA_*` and `WANET_*` variables are removed so a developer's shell cannot leak into a test).
    pub fn start(name: &str, args: &[&str], env: &HashMap<String, String>) -> Service {
        Self::start_with(name, &binary(name), args, env)
    }

    /// [`Service::start`] inside the network namespace `netns` (through `ip netns exec`, which
    /// execs the binary, so the process is still this one).
    pub fn start_in_netns(
        netns: &str,
        name: &str,
        args: &[&str],
        env: &HashMap<String, String>,
    ) -> Service {
        let binary = binary(name);
        let binary = binary.to_str().unwrap();
        let mut all = vec!["netns", "exec", netns, binary];
        all.extend_from_slice(args);
        Self::start_with(name, Path::new(crate::netns::IP), &all, env)
    }

    fn start_with(
        name: &str,
        program: &Path,
        args: &[&str],
        env: &HashMap<String, String>,
    ) -> Service {
        let log_dir = tempfile::tempdir().unwrap();
        let process = Process::start(&Start {
            name,
            binary: program,
            args,
            env,
            log: &log_dir.path().join(format!("{name}.log")),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        Service {
            name: name.to_string(),
            process,
            _log_dir: log_dir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Sends `signal`, e.g. `Signal::STOP` to freeze the process and `Signal::CONT` to resume it.
    pub fn signal(&self, signal: Signal) {
        self.process
            .signal(signal)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Waits until `port` accepts TCP connections; panics with the log if the process died.
    pub fn wait_for_port(&mut self, port: u16) {
        if let Err(e) = self.process.wait_for_port(port, START_TIMEOUT) {
            panic!("{e}");
        }
    }

    /// [`Service::wait_for_port`] on another address than the loopback.
    pub fn wait_for_addr(&mut self, addr: std::net::SocketAddr) {
        if let Err(e) = self.process.wait_for_addr(addr, START_TIMEOUT) {
            panic!("{e}");
        }
    }

    /// Waits for the process to exit by itself and returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        match self.process.wait_exit(timeout) {
            Ok(code) => code,
            Err(e) => panic!("{e}"),
        }
    }

    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Ctrl-C: SIGINT, then waits for the process to exit by itself.
    pub fn interrupt(&mut self, timeout: Duration) {
        self.signal(Signal::INT);
        self.wait_exit(timeout);
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("---- log of {} ----\n{}", self.name, self.log());
        }
    }
}
