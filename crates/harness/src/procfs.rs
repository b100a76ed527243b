//! CPU time and memory of processes from `/proc` (Linux only, like the product's containers), so
//! the bench can say which process a phase's work went to.

use crate::process::Error;

fn read(path: &str) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        what: format!("read {path}"),
        source,
    })
}

fn unexpected(path: &str, what: &str) -> Error {
    Error::Io {
        what: format!("{what} in {path}"),
        source: std::io::ErrorKind::InvalidData.into(),
    }
}

/// User + system CPU seconds process `pid` has used so far.
pub fn cpu_seconds(pid: u32) -> Result<f64, Error> {
    let path = format!("/proc/{pid}/stat");
    let stat = read(&path)?;
    // The command name (field 2) is in parentheses and may contain spaces: split after it.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| unexpected(&path, "no command name"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
    let field = |i: usize| -> Result<f64, Error> {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or_else(|| unexpected(&path, "no CPU times"))
    };
    // The kernel counts in clock ticks (`getconf CLK_TCK`, read from the auxiliary vector).
    let ticks = rustix::param::clock_ticks_per_second() as f64;
    Ok((field(11)? + field(12)?) / ticks)
}

/// Pids of the processes whose command name is one of `names` (e.g. a database server's
/// processes; PostgreSQL has one per connection).
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

/// Resident memory of a process, in MiB.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Memory {
    pub rss_mib: f64,
    pub peak_rss_mib: f64,
}

/// `VmRSS` and `VmHWM` from `/proc/<pid>/status`.
pub fn memory_of(pid: u32) -> Result<Memory, Error> {
    let path = format!("/proc/{pid}/status");
    let status = read(&path)?;
    let field = |name: &str| -> Result<f64, Error> {
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| unexpected(&path, &format!("no {name}")))?;
        Ok(kib / 1024.0)
    };
    Ok(Memory {
        rss_mib: field("VmRSS:")?,
        peak_rss_mib: field("VmHWM:")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        let pid = std::process::id();
        assert!(cpu_seconds(pid).unwrap() >= 0.0);
        let memory = memory_of(pid).unwrap();
        assert!(memory.rss_mib > 0.0 && memory.peak_rss_mib >= memory.rss_mib);
        assert!(pids_named(&["definitely-no-such-process"]).is_empty());
    }
}
