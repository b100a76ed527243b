//! Child processes of the binaries under test.

use std::collections::BTreeSet;
use std::collections::HashMap;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port that was free a moment ago, and never handed out before in this test process: the
/// kernel may give a just-released port to the next `bind(0)`, so two services of parallel tests
/// could otherwise be told the same port before either binds it.
pub fn free_port() -> u16 {
    static HANDED_OUT: std::sync::Mutex<BTreeSet<u16>> = std::sync::Mutex::new(BTreeSet::new());
    let mut handed_out = HANDED_OUT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if handed_out.insert(port) {
            return port;
        }
    }
}

/// Path of a workspace binary next to the test executable (`target/<profile>/<name>`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let path = profile_dir.join(name);
    assert!(
        path.exists(),
        "{} not found: run `cargo build --workspace --bins` before the end-to-end tests",
        path.display()
    );
    path
}

/// A running binary; killed when dropped.
pub struct Service {
    pub name: String,
    child: Child,
    log_path: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl Service {
    /// Starts `name` with `args` and exactly the given extra environment (the parent's `ONPREM_*`
    /// and `WA_*` variables are removed so a developer's shell cannot leak into a test).
    pub fn start(name: &str, args: &[&str], env: &HashMap<String, String>) -> Service {
        let log_dir = tempfile::tempdir().unwrap();
        let log_path = log_dir.path().join(format!("{name}.log"));
        let log = File::create(&log_path).unwrap();
        let mut command = Command::new(binary(name));
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (key, _) in std::env::vars() {
            if key.starts_with("ONPREM") || key.starts_with("WA_") || key == "WACORE_HOSTNAME" {
                command.env_remove(key);
            }
        }
        command.envs(env);
        let child = command.spawn().unwrap();
        Service {
            name: name.to_string(),
            child,
            log_path,
            _log_dir: log_dir,
        }
    }

    /// The process id, e.g. to pause the process with `SIGSTOP`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Waits until `port` accepts TCP connections; panics with the log if the process died.
    pub fn wait_for_port(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "{} exited with {status} before listening:\n{}",
                    self.name,
                    self.log()
                );
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "{} did not listen on {port} in time:\n{}",
            self.name,
            self.log()
        );
    }

    /// Waits for the process to exit by itself and returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "{} still running after {timeout:?}:\n{}",
            self.name,
            self.log()
        );
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
