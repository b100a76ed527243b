//! Every query of the shipped Grafana dashboards (deploy/monitoring/grafana/dashboards) and of the
//! alert rules (deploy/monitoring/alerts.yml) returns data from a real Prometheus (Debian's
//! package) scraping the product during traffic (issue 15, monitoring acceptance).
//!
//! The stack runs as processes on MariaDB (the e2e harness), next to Debian's mysqld-exporter on
//! the test server. Prometheus gets deploy/monitoring/prometheus.yml and alerts.yml as shipped,
//! with the compose targets swapped for the local ones and every job scraped each second. The
//! traffic: an inbound message whose webhook first fails (500) then succeeds, replies with their
//! status webhooks, a send the coreapp refuses and a call with a bad token. Then each dashboard
//! query, and each operand of each alert condition (the condition itself is false while healthy),
//! is polled through the HTTP API until it returns a non-empty result.
//!
//! No exception: the containers dashboard reads the processes' own `process_*` metrics (no
//! cAdvisor), so its queries have data here as everywhere; a job of prometheus.yml without a
//! local target fails the test rather than being left out. Needs `prometheus` and
//! `prometheus-mysqld-exporter` on PATH (scripts/test installs both).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::compose::repo_root;
use e2e::stack::{env, Messaging, FAST_PHONES};
use e2e::{free_port, Receiver, API_KEY};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wa_harness::{Process, Start};
use wa_store::testing::TestDb;
use wa_store::Backend;

/// Generous: the first scrapes, the 1 s scrape interval, and a loaded CI machine.
const WAIT: Duration = Duration::from_secs(240);
const CUSTOMER: &str = "16315550100";

/// A program installed on the machine (not one of the workspace's binaries), killed when dropped.
fn system_program(name: &str, args: &[&str], env: &HashMap<String, String>, dir: &Path) -> Process {
    let binary = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|p| p.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is not installed: apt-get install {name} (scripts/test does)")
        });
    Process::start(&Start {
        name,
        binary: &binary,
        args,
        env,
        log: &dir.join(format!("{name}.log")),
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

/// deploy/monitoring/prometheus.yml with the compose targets replaced by `targets` (every
/// shipped target must have a local one), every job scraped each second, and the key file next
/// to it.
fn prometheus_config(dir: &Path, targets: &HashMap<&str, String>) -> PathBuf {
    let shipped = repo_root().join("deploy/monitoring");
    let text = std::fs::read_to_string(shipped.join("prometheus.yml")).unwrap();
    let mut config: Value = serde_saphyr::from_str(&text).unwrap();
    config["global"]["scrape_interval"] = json!("1s");
    config["global"]["evaluation_interval"] = json!("1s");
    let jobs = config["scrape_configs"].as_array_mut().unwrap();
    for job in jobs {
        let shipped_target = job["static_configs"][0]["targets"][0]
            .as_str()
            .unwrap()
            .to_string();
        let local = targets.get(shipped_target.as_str()).unwrap_or_else(|| {
            panic!(
                "job {}: no local stand-in for {shipped_target}; every shipped job must run here",
                job["job_name"]
            )
        });
        job["static_configs"] = json!([{ "targets": [local] }]);
        let job = job.as_object_mut().unwrap();
        job.remove("scrape_interval");
        job.remove("scrape_timeout");
    }
    std::fs::copy(shipped.join("alerts.yml"), dir.join("alerts.yml")).unwrap();
    std::fs::write(dir.join("wa_api_key"), API_KEY).unwrap();
    // JSON is YAML: Prometheus reads the document as written.
    let path = dir.join("prometheus.yml");
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

/// Every `expr` of every panel target of the shipped dashboards, with where it comes from.
fn dashboard_queries() -> Vec<(String, String)> {
    let dir = repo_root().join("deploy/monitoring/grafana/dashboards");
    let mut queries = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let board: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for panel in board["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let name = path.file_name().unwrap().to_string_lossy();
                let at = format!("{name} / {}", panel["title"].as_str().unwrap());
                queries.push((at, target["expr"].as_str().unwrap().to_string()));
            }
        }
    }
    queries
}

/// The vector operands of every alert rule's condition: the rule fires on a comparison or set
/// operation of them, which is empty while all is well, but each operand must have data.
fn alert_queries() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo_root().join("deploy/monitoring/alerts.yml")).unwrap();
    let rules: Value = serde_saphyr::from_str(&text).unwrap();
    let mut queries = Vec::new();
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            let name = rule["alert"].as_str().unwrap();
            for operand in operands(rule["expr"].as_str().unwrap()) {
                queries.push((format!("alert {name}"), operand));
            }
        }
    }
    queries
}

/// Splits a PromQL expression at its top-level comparison and set operators (outside brackets,
/// braces, parentheses and strings), drops their modifiers (`bool`, `on(...)`, `ignoring(...)`,
/// `group_left(...)`) and the scalar literals.
fn operands(expr: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let (mut depth, mut quoted) = (0i32, false);
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let rest: String = chars[i..].iter().collect();
        if quoted {
            quoted = c != '"';
        } else if c == '"' {
            quoted = true;
        } else if "([{".contains(c) {
            depth += 1;
        } else if ")]}".contains(c) {
            depth -= 1;
        } else if depth == 0 {
            let op = [
                "==", "!=", ">=", "<=", ">", "<", " and ", " or ", " unless ",
            ]
            .into_iter()
            .find(|op| rest.starts_with(op));
            if let Some(op) = op {
                parts.push(String::new());
                i += op.len();
                continue;
            }
        }
        parts.last_mut().unwrap().push(c);
        i += 1;
    }
    parts
        .into_iter()
        .map(|p| strip_modifiers(p.trim()))
        .filter(|p| !p.is_empty() && p.parse::<f64>().is_err())
        .collect()
}

fn strip_modifiers(mut part: &str) -> String {
    loop {
        let before = part;
        for word in ["bool", "on", "ignoring", "group_left", "group_right"] {
            // A whole word only: `on(` or `bool `, never a metric such as `online_total`.
            let whole = |rest: &str| rest.starts_with(|c: char| c == '(' || c.is_whitespace());
            if let Some(rest) = part.strip_prefix(word).filter(|rest| whole(rest)) {
                let rest = rest.trim_start();
                part = match rest.strip_prefix('(') {
                    Some(inner) => inner.split_once(')').map_or(rest, |(_, after)| after),
                    None if word == "bool" => rest,
                    None => before,
                }
                .trim_start();
            }
        }
        if part == before {
            return part.to_string();
        }
    }
}

/// `GET /api/v1/query`: the result vector, or the error Prometheus reported.
fn instant_query(
    http: &reqwest::blocking::Client,
    base: &str,
    query: &str,
) -> Result<Vec<Value>, String> {
    let reply: Value = http
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", query)])
        .send()
        .and_then(|r| r.json())
        .map_err(|e| e.to_string())?;
    if reply["status"] != "success" {
        return Err(format!("{reply}"));
    }
    Ok(reply["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// Inbound with a failing then working receiver, replies and their statuses, a refused send and
/// a refused token: every series the dashboards and alerts read gets samples.
fn drive_traffic(stack: &Messaging, receiver: &Receiver) {
    receiver.answer_with(500);
    let inbound = stack.wanet.consumer_says(CUSTOMER, "Do you ship to Leeds?");
    receiver.wait_until(WAIT, "a refused webhook", |_| {
        receiver.attempts().iter().any(|a| a.answered == 500)
    });
    receiver.answer_with(200);
    receiver.wait_for_inbound(WAIT, &inbound);
    for n in 0..5 {
        stack
            .send_text(CUSTOMER, &format!("We do, reply {n}"))
            .expect_status(201);
    }
    let bad = json!({ "to": CUSTOMER, "type": "text" });
    let refused = stack
        .api()
        .call("POST", "/v1/messages", Some(&stack.admin), Some(bad));
    assert_eq!(refused.status, 400, "{:?}", refused.body);
    stack
        .api()
        .call("GET", "/v1/health", Some("Bearer not-a-token"), None)
        .expect_status(401);
}

#[test]
fn every_dashboard_and_alert_query_returns_data() {
    let db = TestDb::new(Backend::Mysql);
    let receiver = Receiver::start();
    let stack = Messaging::start(
        &env(&[("ONPREM__DATABASE__URL", &db.url)]),
        FAST_PHONES,
        &receiver.url(),
    );
    stack.register();
    let dir = tempfile::tempdir().unwrap();

    // mysqld-exporter on the test server (Debian's 0.14 reads DATA_SOURCE_NAME).
    let server = url::Url::parse(&db.url).unwrap();
    let exporter_port = free_port();
    let dsn = format!(
        "{}:{}@({}:{})/",
        server.username(),
        server.password().unwrap_or(""),
        server.host_str().unwrap(),
        server.port().unwrap_or(3306)
    );
    let listen = format!("--web.listen-address=127.0.0.1:{exporter_port}");
    let mut exporter = system_program(
        "prometheus-mysqld-exporter",
        &[&listen],
        &HashMap::from([("DATA_SOURCE_NAME".to_string(), dsn)]),
        dir.path(),
    );
    exporter.wait_for_port(exporter_port, WAIT).unwrap();

    let web = format!("127.0.0.1:{}", stack.web.port);
    let targets = HashMap::from([
        ("waweb:443", web),
        ("mysqld-exporter:9104", format!("127.0.0.1:{exporter_port}")),
    ]);
    let config = prometheus_config(dir.path(), &targets);
    let prometheus_port = free_port();
    let args = [
        format!("--config.file={}", config.display()),
        format!("--storage.tsdb.path={}", dir.path().join("data").display()),
        format!("--web.listen-address=127.0.0.1:{prometheus_port}"),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut prometheus = system_program("prometheus", &args, &HashMap::new(), dir.path());
    prometheus.wait_for_port(prometheus_port, WAIT).unwrap();

    drive_traffic(&stack, &receiver);

    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{prometheus_port}");
    let queries: Vec<(String, String)> = dashboard_queries()
        .into_iter()
        .chain(alert_queries())
        .collect();
    assert!(queries.len() > 30, "found only {} queries", queries.len());
    let started = Instant::now();
    for (at, query) in &queries {
        loop {
            let answer = instant_query(&http, &base, query);
            match &answer {
                Ok(result) if !result.is_empty() => {
                    println!(
                        "{:>5.1}s  {:>3} series  {at}: {query}",
                        started.elapsed().as_secs_f64(),
                        result.len()
                    );
                    break;
                }
                _ => {}
            }
            assert!(
                started.elapsed() < WAIT,
                "{at}: `{query}` answered {answer:?} after {:?}\nprometheus log:\n{}\nexporter log:\n{}",
                started.elapsed(),
                prometheus.log_tail(30),
                exporter.log_tail(10)
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    // The containers dashboard shows each service: the process metrics come from the webapp
    // (its /metrics) and from the coreapp (its statistics relayed), each scrape job its own
    // (mysqld-exporter reports its own process too; the dashboard leaves it out).
    let per_job = "count by (job) (process_resident_memory_bytes)";
    loop {
        let jobs: Vec<String> = instant_query(&http, &base, per_job)
            .unwrap()
            .iter()
            .map(|series| series["metric"]["job"].as_str().unwrap().to_string())
            .collect();
        if ["wacore", "waweb"]
            .iter()
            .all(|job| jobs.iter().any(|j| j == job))
        {
            break;
        }
        assert!(started.elapsed() < WAIT, "{per_job}: {jobs:?}");
        std::thread::sleep(Duration::from_millis(500));
    }

    // Prometheus evaluated every shipped rule without error.
    let rules: Value = http
        .get(format!("{base}/api/v1/rules"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let groups = rules["data"]["groups"].as_array().unwrap();
    let evaluated: Vec<&Value> = groups
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .collect();
    assert!(evaluated.len() >= 7, "{rules}");
    for rule in evaluated {
        assert_eq!(rule["health"], "ok", "{rule}");
    }
}

#[test]
fn alert_conditions_split_into_their_operands() {
    assert_eq!(
        operands(r#"up{job="wacore"} == 0"#),
        vec![r#"up{job="wacore"}"#]
    );
    assert_eq!(
        operands("pending_messages > 0 unless on() sum(increase(x_count[10m])) > 0"),
        vec!["pending_messages", "sum(increase(x_count[10m]))"]
    );
    assert_eq!(
        operands(
            r#"sum(rate(a{result!="success"}[5m])) > 0 and sum(rate(a{result="success"}[5m])) == bool 0"#
        ),
        vec![
            r#"sum(rate(a{result!="success"}[5m]))"#,
            r#"sum(rate(a{result="success"}[5m]))"#
        ]
    );
    assert_eq!(
        operands("q > 100 and deriv(q[10m]) > 0"),
        vec!["q", "deriv(q[10m])"]
    );
}
