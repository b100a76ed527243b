//! The serving process's own resources, in the statistics' JSON model: CPU time, memory, file
//! descriptors, threads and start time under the `process_*` names Prometheus client libraries
//! use. The webapp adds them to `GET /metrics` and the coreapp to `GET /v1/stats/app`, so a
//! Prometheus that scrapes the product sees each process without a container exporter.
//!
//! Read from `/proc/self` through `procfs` at each call (a few small reads, as cheap as the
//! scrape itself). Where `/proc` is not there (other platforms) the map is empty, and a value
//! whose read fails is left out rather than reported as 0.

use super::{sample_json, stat_json, MetricDef};
use serde_json::{Map, Value};

/// Every `process_*` statistic that could be read now, each with one sample carrying `labels`.
pub fn process_stats(labels: &[(&str, &str)]) -> Map<String, Value> {
    let mut stats = Map::new();
    for (def, value) in readings() {
        let mut sample = sample_json(labels, 0);
        sample["value"] = super::number(value);
        stats.insert(def.name.to_string(), stat_json(&def, vec![sample]));
    }
    stats
}

#[cfg(target_os = "linux")]
fn readings() -> Vec<(MetricDef, f64)> {
    use procfs::process::{LimitValue, Process};
    use procfs::WithCurrentSystemInfo;

    let Ok(me) = Process::myself() else {
        return Vec::new();
    };
    let mut readings = Vec::new();
    if let Ok(stat) = me.stat() {
        // Clock ticks as fractions of a second: whole seconds would make a rate over a few
        // minutes of a mostly idle process read 0 and then jump.
        let ticks = procfs::ticks_per_second().max(1) as f64;
        readings.push((
            super::PROCESS_CPU_SECONDS_TOTAL,
            (stat.utime + stat.stime) as f64 / ticks,
        ));
        readings.push((
            super::PROCESS_RESIDENT_MEMORY_BYTES,
            stat.rss_bytes().get() as f64,
        ));
        readings.push((super::PROCESS_VIRTUAL_MEMORY_BYTES, stat.vsize as f64));
        readings.push((super::PROCESS_THREADS, stat.num_threads as f64));
        // `starttime` counts ticks since boot; the boot time makes it a Unix time.
        if let Ok(boot) = procfs::boot_time_secs() {
            let started = boot as f64 + stat.starttime as f64 / ticks;
            readings.push((super::PROCESS_START_TIME_SECONDS, started));
        }
    }
    if let Ok(open) = me.fd_count() {
        readings.push((super::PROCESS_OPEN_FDS, open as f64));
    }
    // An unlimited soft limit has no number to show.
    if let Ok(limits) = me.limits() {
        if let LimitValue::Value(max) = limits.max_open_files.soft_limit {
            readings.push((super::PROCESS_MAX_FDS, max as f64));
        }
    }
    readings
}

#[cfg(not(target_os = "linux"))]
fn readings() -> Vec<(MetricDef, f64)> {
    Vec::new()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::metrics::{prometheus_text, PROCESS_METRICS};

    fn value(stats: &Map<String, Value>, def: &MetricDef) -> f64 {
        let value = &stats[def.name]["data"][0]["value"];
        value
            .as_f64()
            .unwrap_or_else(|| panic!("{}: {value}", def.name))
    }

    #[test]
    fn every_process_statistic_is_read_with_the_labels_given() {
        let stats = process_stats(&[("node", "web-1")]);
        for def in PROCESS_METRICS {
            let stat = &stats[def.name];
            assert_eq!(stat["type"], def.kind.as_str(), "{}: {stat}", def.name);
            assert_eq!(stat["help"], def.help, "{}", def.name);
            assert_eq!(stat["data"][0]["labels"]["node"], "web-1", "{stat}");
        }
        assert_eq!(stats.len(), PROCESS_METRICS.len(), "{stats:?}");
        let unlabelled = process_stats(&[]);
        assert!(unlabelled["process_threads"]["data"][0]
            .get("labels")
            .is_none());
    }

    #[test]
    fn the_values_describe_this_process() {
        // Some CPU work, so the CPU time is past its first tick.
        let mut spin = 0u64;
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(50);
        while std::time::Instant::now() < deadline {
            spin = spin.wrapping_add(1);
        }
        let stats = process_stats(&[]);
        let v = |def| value(&stats, def);
        assert!(spin > 0);
        assert!(
            v(&crate::metrics::PROCESS_CPU_SECONDS_TOTAL) > 0.0,
            "{stats:?}"
        );
        let rss = v(&crate::metrics::PROCESS_RESIDENT_MEMORY_BYTES);
        assert!(rss > 0.0, "{stats:?}");
        assert!(
            v(&crate::metrics::PROCESS_VIRTUAL_MEMORY_BYTES) >= rss,
            "{stats:?}"
        );
        let open = v(&crate::metrics::PROCESS_OPEN_FDS);
        // stdin, stdout, stderr at least, and never above the limit.
        assert!(open >= 3.0, "{stats:?}");
        assert!(open <= v(&crate::metrics::PROCESS_MAX_FDS), "{stats:?}");
        assert!(v(&crate::metrics::PROCESS_THREADS) >= 1.0, "{stats:?}");
        // The same start time at every read: a change is what a restart looks like.
        let started = v(&crate::metrics::PROCESS_START_TIME_SECONDS);
        assert!(started > 0.0, "{stats:?}");
        let again = process_stats(&[]);
        assert_eq!(
            value(&again, &crate::metrics::PROCESS_START_TIME_SECONDS),
            started
        );
    }

    #[test]
    fn the_text_form_has_fractional_cpu_seconds_as_a_counter() {
        let text = prometheus_text(&process_stats(&[("node", "n")]));
        assert!(
            text.contains("# TYPE process_cpu_seconds_total counter\n"),
            "{text}"
        );
        let rss = text
            .lines()
            .find(|l| l.starts_with("process_resident_memory_bytes{node=\"n\"} "))
            .unwrap_or_else(|| panic!("{text}"));
        let bytes: f64 = rss.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(bytes > 0.0, "{rss}");
    }
}
