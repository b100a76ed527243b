//! The one table on stdout and the JSON file: every measurement is a row with its target from
//! design.md §7 (when it has one) and whether it was met.

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// Latency percentiles of a set of samples, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Percentiles {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    pub fn of(mut samples: Vec<Duration>) -> Percentiles {
        if samples.is_empty() {
            return Percentiles::default();
        }
        samples.sort_unstable();
        // Nearest-rank percentile: the smallest sample with at least p% of samples at or below it.
        let at = |p: f64| {
            let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
            ms(samples[rank.clamp(1, samples.len()) - 1])
        };
        Percentiles {
            count: samples.len(),
            p50_ms: at(50.0),
            p95_ms: at(95.0),
            p99_ms: at(99.0),
            max_ms: samples.last().map_or(0.0, |d| ms(*d)),
        }
    }

    pub fn show(&self) -> String {
        format!(
            "{:.1} / {:.1} / {:.1} ms",
            self.p50_ms, self.p95_ms, self.p99_ms
        )
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A target of design.md §7: the bound, which way it goes, and how to print it.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub text: String,
    #[serde(skip)]
    check: Check,
    bound: f64,
}

#[derive(Debug, Clone, Copy)]
enum Check {
    AtLeast,
    Below,
}

impl Target {
    pub fn at_least(bound: f64, text: &str) -> Target {
        Target {
            text: text.to_string(),
            check: Check::AtLeast,
            bound,
        }
    }

    pub fn below(bound: f64, text: &str) -> Target {
        Target {
            text: text.to_string(),
            check: Check::Below,
            bound,
        }
    }

    fn met_by(&self, value: f64) -> bool {
        match self.check {
            Check::AtLeast => value >= self.bound,
            Check::Below => value < self.bound,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub metric: String,
    /// The printed value.
    pub value: String,
    /// The number the target is checked against (and what scripts read), in `unit`.
    pub number: Option<f64>,
    pub unit: String,
    pub target: Option<Target>,
    pub met: Option<bool>,
}

#[derive(Default, Serialize)]
pub struct Report {
    pub rows: Vec<Row>,
    /// Everything measured, in more detail than the table, by phase.
    pub details: serde_json::Map<String, Value>,
    /// Single-row write transactions per second the database took from 10 connections in this
    /// run (its storage ceiling), when measured: each message rate is shown as a share of it.
    #[serde(skip)]
    pub ceiling: Option<f64>,
}

impl Report {
    /// A row without a target (context for the ones with a target).
    pub fn info(&mut self, metric: &str, value: String) {
        self.rows.push(Row {
            metric: metric.to_string(),
            value,
            number: None,
            unit: String::new(),
            target: None,
            met: None,
        });
    }

    /// A numeric row, checked against `target` when there is one.
    pub fn number(&mut self, metric: &str, number: f64, unit: &str, target: Option<Target>) {
        let value = if number.abs() >= 100.0 {
            format!("{number:.0} {unit}")
        } else {
            format!("{number:.1} {unit}")
        };
        self.number_shown(metric, number, unit, value, target);
    }

    /// A rate of messages, with its share of this run's storage ceiling when it was measured
    /// (how far the product is from what the database alone allows on the same machine).
    pub fn rate(&mut self, metric: &str, rate: f64, target: Option<Target>) {
        let share = match self.ceiling.filter(|c| *c > 0.0) {
            Some(ceiling) => format!(" ({:.0} % of ceiling)", 100.0 * rate / ceiling),
            None => String::new(),
        };
        self.number_shown(
            metric,
            rate,
            "msg/s",
            format!("{rate:.0} msg/s{share}"),
            target,
        );
    }

    /// Like `number`, with the printed value chosen by the caller.
    pub fn number_shown(
        &mut self,
        metric: &str,
        number: f64,
        unit: &str,
        value: String,
        target: Option<Target>,
    ) {
        let met = target.as_ref().map(|t| t.met_by(number));
        self.rows.push(Row {
            metric: metric.to_string(),
            value,
            number: Some(number),
            unit: unit.to_string(),
            target,
            met,
        });
    }

    pub fn detail(&mut self, phase: &str, value: impl Serialize) {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.details.insert(phase.to_string(), value);
    }

    pub fn table(&self) -> String {
        let headers = ["metric", "value", "target", "met?"];
        let cells: Vec<[String; 4]> = self
            .rows
            .iter()
            .map(|row| {
                [
                    row.metric.clone(),
                    row.value.clone(),
                    row.target
                        .as_ref()
                        .map_or_else(|| "-".to_string(), |t| t.text.clone()),
                    match row.met {
                        Some(true) => "yes".to_string(),
                        Some(false) => "NO".to_string(),
                        None => "-".to_string(),
                    },
                ]
            })
            .collect();
        let mut widths = headers.map(str::len);
        for row in &cells {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cols: [&str; 4]| {
            let mut text = String::from("|");
            for (col, width) in cols.iter().zip(widths) {
                text.push_str(&format!(" {col:<width$} |"));
            }
            text.push('\n');
            text
        };
        let mut out = line(headers);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&line([&rule[0], &rule[1], &rule[2], &rule[3]]));
        for row in &cells {
            out.push_str(&line([&row[0], &row[1], &row[2], &row[3]]));
        }
        out
    }

    pub fn write_json(&self, path: &Path, run: Value) -> Result<()> {
        let mut document = serde_json::to_value(self)?;
        document["run"] = run;
        let text = serde_json::to_string_pretty(&document)?;
        std::fs::write(path, text).with_context(|| format!("write {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let p = Percentiles::of(samples);
        assert_eq!(
            (p.p50_ms, p.p95_ms, p.p99_ms, p.max_ms),
            (50.0, 95.0, 99.0, 100.0)
        );
        assert_eq!(Percentiles::of(Vec::new()).count, 0);
        let one = Percentiles::of(vec![Duration::from_millis(7)]);
        assert_eq!((one.p50_ms, one.p99_ms), (7.0, 7.0));
    }

    #[test]
    fn targets_mark_rows() {
        let mut report = Report::default();
        report.number(
            "a",
            1200.0,
            "msg/s",
            Some(Target::at_least(1000.0, ">= 1000 msg/s")),
        );
        report.number("b", 80.0, "ms", Some(Target::below(50.0, "< 50 ms")));
        report.info("c", "x".to_string());
        let met: Vec<Option<bool>> = report.rows.iter().map(|r| r.met).collect();
        assert_eq!(met, [Some(true), Some(false), None]);
        let table = report.table();
        assert!(table.contains("| a "), "{table}");
        assert!(table.contains("NO"), "{table}");
    }
}
