//! A network namespace joined to the host by a veth pair (iproute2's `ip`), for partition
//! tests: a process started in it reaches the host only at [`Netns::host_ip`], and the host
//! reaches it at [`Netns::inner_ip`]. It has its own loopback, so nothing listening on the
//! host's 127.0.0.1 (the databases, wanet) is reachable from it except through what the test
//! puts on the host side of the veth (`crate::relay`). Needs root or CAP_NET_ADMIN.

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// Prefix of the namespaces these tests create; leftovers of a killed test run are removed.
const PREFIX: &str = "wa-e2e-";

static CREATED: AtomicU32 = AtomicU32::new(0);

/// iproute2's `ip` (Debian's path; not on a non-root user's PATH).
pub const IP: &str = "/usr/sbin/ip";

pub struct Netns {
    pub name: String,
    host_ip: Ipv4Addr,
    inner_ip: Ipv4Addr,
}

/// Runs `ip` with `args`; the error names the command and what it printed.
fn ip(args: &[&str]) -> Result<(), String> {
    let output = Command::new(IP)
        .args(args)
        .output()
        .map_err(|e| format!("ip {}: {e} (is iproute2 installed?)", args.join(" ")))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    ))
}

fn ip_output(args: &[&str]) -> String {
    Command::new(IP)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Removes namespaces of earlier test processes that no longer run (a SIGKILLed test leaves
/// its namespace, and the veth pair with it, behind).
fn remove_leftovers() {
    for line in ip_output(&["netns", "list"]).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = ip(&["netns", "del", name]);
        }
    }
}

/// A /30 in 10.213.0.0/16 that no interface of the host uses yet.
fn free_subnet(seed: u32) -> Result<u8, String> {
    let used = ip_output(&["-4", "-o", "addr", "show"]);
    (0..250u32)
        .map(|step| ((seed + step) % 250) as u8)
        .find(|third| !used.contains(&format!("10.213.{third}.")))
        .ok_or_else(|| "no free 10.213.x.0/30 subnet".to_string())
}

impl Netns {
    /// Creates the namespace and its veth pair, both ends up, loopback up inside.
    pub fn create() -> Result<Netns, String> {
        remove_leftovers();
        let pid = std::process::id();
        let n = CREATED.fetch_add(1, Ordering::SeqCst);
        let name = format!("{PREFIX}{pid}-{n}");
        let third = free_subnet(pid.wrapping_mul(7).wrapping_add(n))?;
        let netns = Netns {
            name: name.clone(),
            host_ip: Ipv4Addr::new(10, 213, third, 1),
            inner_ip: Ipv4Addr::new(10, 213, third, 2),
        };
        ip(&["netns", "add", &name])?;
        // Interface names are at most 15 characters.
        let host_if = format!("wah{}x{n}", pid % 100_000);
        let inner_if = format!("wan{}x{n}", pid % 100_000);
        ip(&[
            "link", "add", &host_if, "type", "veth", "peer", "name", &inner_if,
        ])?;
        ip(&["link", "set", &inner_if, "netns", &name])?;
        ip(&[
            "addr",
            "add",
            &format!("{}/30", netns.host_ip),
            "dev",
            &host_if,
        ])?;
        ip(&["link", "set", &host_if, "up"])?;
        let inside = |args: &[&str]| {
            let mut all = vec!["netns", "exec", &name, "ip"];
            all.extend_from_slice(args);
            ip(&all)
        };
        inside(&[
            "addr",
            "add",
            &format!("{}/30", netns.inner_ip),
            "dev",
            &inner_if,
        ])?;
        inside(&["link", "set", &inner_if, "up"])?;
        inside(&["link", "set", "lo", "up"])?;
        Ok(netns)
    }

    /// The host's end of the veth: what processes inside connect to.
    pub fn host_ip(&self) -> Ipv4Addr {
        self.host_ip
    }

    /// The namespace's end: where its processes listen for the host.
    pub fn inner_ip(&self) -> Ipv4Addr {
        self.inner_ip
    }
}

impl Drop for Netns {
    /// Deleting the namespace deletes its veth end, and with it the host's end.
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.name]);
    }
}
