//! High Availability and Multiconnect settings: Meta's variables (`WA_MASTER_NODE`,
//! `WA_APP_MULTICONNECT`, `COREAPP_HOSTNAME`, `COREAPP_EXTERNAL_PORTS`) and the cluster timings.
//!
//! A process is in cluster mode when it is a master, or `WA_APP_MULTICONNECT` is on, or
//! `COREAPP_HOSTNAME` is set (Meta's HA and multiconnect compose files set these); otherwise it is
//! the single node it has always been.

use serde::{Deserialize, Serialize};

/// What `--help` says about the cluster variables (every binary shows it).
pub const ENV_HELP: &str = "\
High Availability / Multiconnect environment (Meta's names):
  WA_MASTER_NODE          1/true: this coreapp is a master (competes for the cluster lease)
  WA_APP_MULTICONNECT     1/true: cluster mode (nodes and shards come from the database)
  COREAPP_HOSTNAME        host name the other nodes and the webapp use to reach this node
                          (setting it also turns cluster mode on)
  COREAPP_EXTERNAL_PORTS  ports reachable from outside, e.g. \"6250,6251,6252,6253\"; the first
                          one is advertised (default: the listen port)
Cluster mode needs MySQL/MariaDB or PostgreSQL; SQLite is single-node only.";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterSettings {
    /// `WA_MASTER_NODE`: `1`/`true` or `0`/`false`.
    pub master_node: Option<String>,
    /// `WA_APP_MULTICONNECT`: `1`/`true` or `0`/`false`.
    pub multiconnect: Option<String>,
    /// `COREAPP_HOSTNAME`: the name this node is reached by.
    pub hostname: Option<String>,
    /// `COREAPP_EXTERNAL_PORTS`: comma-separated ports, the first one advertised.
    pub external_ports: Option<String>,
    /// How often every node heartbeats, overriding the application setting
    /// `heartbeat_interval` (seconds); tests set a few hundred milliseconds.
    pub heartbeat_interval_ms: Option<u64>,
    /// After how long without a heartbeat a node is unhealthy (and the lease expires),
    /// overriding the application setting `unhealthy_interval` (seconds).
    pub unhealthy_interval_ms: Option<u64>,
}

/// A yes/no variable: Meta's files write `1`/`0`; `true`/`false` are accepted too.
fn flag(value: Option<&str>) -> Result<bool, String> {
    match value.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        None | Some("") | Some("0") | Some("false") => Ok(false),
        Some("1") | Some("true") => Ok(true),
        Some(other) => Err(other.to_string()),
    }
}

impl ClusterSettings {
    /// This coreapp process is a master.
    pub fn is_master(&self) -> bool {
        flag(self.master_node.as_deref()).unwrap_or(false)
    }

    /// `WA_APP_MULTICONNECT` is on.
    pub fn multiconnect(&self) -> bool {
        flag(self.multiconnect.as_deref()).unwrap_or(false)
    }

    /// The process takes part in a cluster instead of running alone.
    pub fn enabled(&self) -> bool {
        self.is_master() || self.multiconnect() || self.configured_hostname().is_some()
    }

    fn configured_hostname(&self) -> Option<&str> {
        self.hostname
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
    }

    /// `COREAPP_HOSTNAME`, else the machine's host name.
    pub fn hostname(&self) -> String {
        if let Some(name) = self.configured_hostname() {
            return name.to_string();
        }
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "localhost".to_string())
    }

    fn ports(&self) -> Result<Vec<u16>, String> {
        let Some(ports) = self.external_ports.as_deref().map(str::trim) else {
            return Ok(Vec::new());
        };
        ports
            .trim_matches('"')
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<u16>()
                    .ok()
                    .filter(|port| *port > 0)
                    .ok_or_else(|| p.to_string())
            })
            .collect()
    }

    /// `host:port` the other nodes and the webapp reach this node's RPC at: the first external
    /// port, else the port it listens on.
    pub fn advertised_address(&self, listen_port: u16) -> String {
        let port = self
            .ports()
            .ok()
            .and_then(|ports| ports.first().copied())
            .unwrap_or(listen_port);
        let host = self.hostname();
        if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        }
    }

    pub(crate) fn check(&self, sqlite: bool, problems: &mut Vec<String>) {
        for (name, value) in [
            ("WA_MASTER_NODE", &self.master_node),
            ("WA_APP_MULTICONNECT", &self.multiconnect),
        ] {
            if let Err(bad) = flag(value.as_deref()) {
                problems.push(format!(
                    "{name} must be 0 or 1 (or false/true), not '{bad}'"
                ));
            }
        }
        if let Some(name) = self.configured_hostname() {
            if name.len() > 100 || name.chars().any(|c| c.is_whitespace() || c == '/') {
                problems.push(format!("COREAPP_HOSTNAME '{name}' is not a host name"));
            }
        }
        if let Err(bad) = self.ports() {
            problems.push(format!(
                "COREAPP_EXTERNAL_PORTS must be ports separated by commas; '{bad}' is not a port"
            ));
        }
        for (name, value) in [
            ("cluster.heartbeat_interval_ms", self.heartbeat_interval_ms),
            ("cluster.unhealthy_interval_ms", self.unhealthy_interval_ms),
        ] {
            if value == Some(0) {
                problems.push(format!("{name} must be at least 1"));
            }
        }
        if self.enabled() && sqlite {
            problems.push(
                "database engine sqlite is not supported for multiconnect mode: High Availability \
                 and Multiconnect (WA_MASTER_NODE, WA_APP_MULTICONNECT, COREAPP_HOSTNAME) need \
                 WA_DB_ENGINE=MYSQL or PGSQL"
                    .to_string(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(master: &str, ports: &str) -> ClusterSettings {
        ClusterSettings {
            master_node: Some(master.into()),
            hostname: Some("wacore1".into()),
            external_ports: Some(ports.into()),
            ..Default::default()
        }
    }

    #[test]
    fn meta_values_are_understood_and_bad_ones_reported() {
        let settings = with("1", "6254,6255,6256,6257");
        assert!(settings.is_master() && settings.enabled());
        assert_eq!(settings.advertised_address(6250), "wacore1:6254");
        let mut problems = Vec::new();
        settings.check(false, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");

        let mut problems = Vec::new();
        with("yes", "62x0").check(true, &mut problems);
        assert_eq!(problems.len(), 3, "{problems:?}");

        let single = ClusterSettings::default();
        assert!(!single.enabled());
        let mut problems = Vec::new();
        single.check(true, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
    }
}
