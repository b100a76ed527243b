//! CPU time per process (read from `/proc` by `wa-harness`), so each phase can say which process
//! the work went to (webapp, coreapp, wanet, the database server, the bench itself).

use serde::Serialize;
use std::collections::BTreeMap;

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
