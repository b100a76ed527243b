//! CPU time per process from `/proc`, so each phase can say which process the work went to
//! (webapp, coreapp, wanet, the database server, the bench itself).

use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::BTreeMap;

/// Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`; 100 on every usual Linux).
pub fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// User + system CPU seconds a process has used so far.
pub fn cpu_seconds(pid: u32, ticks: f64) -> Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
    // The command name (field 2) is in parentheses and may contain spaces: split after it.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .with_context(|| format!("unexpected {path}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
    let field = |i: usize| -> Result<f64> {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .with_context(|| format!("no CPU times in {path}"))
    };
    Ok((field(11)? + field(12)?) / ticks)
}

/// Pids of the processes whose command name is one of `names` (the database server's processes;
/// PostgreSQL has one per connection).
pub fn pids_named(names: &[&str]) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| names.contains(&comm.trim()))
        })
        .collect()
}

/// A CPU reading of a set of named processes; subtract two to get a phase's share.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CpuSnapshot(pub BTreeMap<String, f64>);

impl CpuSnapshot {
    /// Seconds used between `earlier` and `self`, per process.
    pub fn since(&self, earlier: &CpuSnapshot) -> CpuSnapshot {
        CpuSnapshot(
            self.0
                .iter()
                .map(|(name, now)| {
                    let before = earlier.0.get(name).copied().unwrap_or(0.0);
                    (name.clone(), (now - before).max(0.0))
                })
                .collect(),
        )
    }

    /// `webapp 1.2 s, coreapp 3.4 s, ...` sorted by the largest share.
    pub fn show(&self) -> String {
        let mut parts: Vec<(&String, &f64)> = self.0.iter().collect();
        parts.sort_by(|a, b| b.1.total_cmp(a.1));
        parts
            .iter()
            .map(|(name, seconds)| format!("{name} {seconds:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
