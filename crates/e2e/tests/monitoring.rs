//! Monitoring and limits (spec onprem-rest §9.2–9.4, §10): `/v1/stats/app`, `/v1/stats/db` and
//! `/metrics` in both formats, counters moving with real traffic, the per-endpoint request rate
//! limits (429/1015) and the overload refusal (503/1016).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{coreapp, env, webapp, Messaging, FAST_PHONES};
use e2e::{Client, Receiver, ADMIN_PASSWORD, API_KEY};
use prometheus_parse::{LineInfo, Scrape};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use wa_store::testing::TestDb;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);
const CUSTOMER: &str = "16315550100";
const NOT_ON_WHATSAPP: &str = "16315550999";

fn apikey() -> String {
    format!("Apikey {API_KEY}")
}

/// Polls `probe` until it returns `Some`; panics with `what` after [`WAIT`].
fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `GET path` with `auth`, answered 200 with JSON.
fn get_json(client: &Client, path: &str, auth: &str) -> Value {
    let reply = client.call("GET", path, Some(auth), None);
    reply.expect_status(200);
    reply.body
}

/// Sum of the values of `name`'s samples whose labels include all of `labels`.
fn value(stats: &Value, name: &str, labels: &[(&str, &str)]) -> i64 {
    stats[name]["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{name} missing from {stats}"))
        .iter()
        .filter(|sample| {
            labels
                .iter()
                .all(|(key, wanted)| sample["labels"][*key] == *wanted)
        })
        .map(|sample| sample["value"].as_i64().unwrap())
        .sum()
}

/// Every statistic has the documented shape: `type`, `help`, `data[{labels?, value}]`.
fn assert_stat_shapes(stats: &Value) {
    let stats = stats.as_object().unwrap();
    assert!(!stats.is_empty());
    for (name, stat) in stats {
        assert!(
            ["gauge", "counter"].contains(&stat["type"].as_str().unwrap()),
            "{name}: {stat}"
        );
        assert!(!stat["help"].as_str().unwrap().is_empty(), "{name}");
        // Counts are whole numbers; CPU seconds and the start time are fractions of a second.
        let fractional = ["process_cpu_seconds_total", "process_start_time_seconds"];
        for sample in stat["data"].as_array().unwrap() {
            if fractional.contains(&name.as_str()) {
                assert!(sample["value"].is_number(), "{name}: {sample}");
            } else {
                assert!(sample["value"].is_i64(), "{name}: {sample}");
            }
            if let Some(labels) = sample.get("labels") {
                assert!(
                    labels.as_object().unwrap().values().all(Value::is_string),
                    "{name}: {sample}"
                );
            }
        }
    }
}

/// `GET path` in Prometheus text, parsed with a Prometheus text parser. Every line must be a
/// HELP, TYPE or sample line, and every sample must follow its HELP and TYPE.
fn scrape(client: &Client, path: &str, auth: &str) -> Scrape {
    let response = client
        .request("GET", path)
        .header("Authorization", auth)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4"
    );
    let text = response.text().unwrap();
    assert!(!text.is_empty());
    for line in text.lines() {
        assert_ne!(LineInfo::parse(line), LineInfo::Ignored, "line {line:?}");
    }
    let scrape = Scrape::parse(text.lines().map(|line| Ok(line.to_string()))).unwrap();
    for sample in &scrape.samples {
        assert!(
            scrape.docs.contains_key(&sample.metric),
            "{} has no HELP",
            sample.metric
        );
        assert!(
            !matches!(sample.value, prometheus_parse::Value::Untyped(_)),
            "{} has no TYPE",
            sample.metric
        );
    }
    scrape
}

/// The value of the one sample of `name` with exactly `labels`.
fn scraped(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let wanted: HashMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let sample = scrape
        .samples
        .iter()
        .find(|s| s.metric == name && *s.labels == wanted)
        .unwrap_or_else(|| panic!("no {name}{labels:?} in {:#?}", scrape.samples));
    match sample.value {
        prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
        ref other => panic!("{name}: {other:?}"),
    }
}

/// The one sample of `name` whose labels include all of `labels`, as a float.
fn float_value(stats: &Value, name: &str, labels: &[(&str, &str)]) -> f64 {
    let samples: Vec<f64> = stats[name]["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{name} missing from {stats}"))
        .iter()
        .filter(|sample| labels.iter().all(|(k, v)| sample["labels"][*k] == *v))
        .map(|sample| sample["value"].as_f64().unwrap())
        .collect();
    assert_eq!(samples.len(), 1, "{name}{labels:?} in {stats}");
    samples[0]
}

/// The `process_*` statistics of `stats` (one process, samples with `labels`) are that
/// process's: its CPU time lies between two readings of `/proc/<pid>/stat` taken around the
/// request, and the other values are plausible for a running server.
fn assert_process_stats(what: &str, pid: u32, labels: &[(&str, &str)], read: impl Fn() -> Value) {
    let cpu = || wa_harness::procfs::cpu_seconds(pid).unwrap();
    let before = cpu();
    let stats = read();
    let after = cpu();
    let v = |name: &str| float_value(&stats, name, labels);
    let reported = v("process_cpu_seconds_total");
    assert!(
        before <= reported && reported <= after && reported > 0.0,
        "{what}: {before} <= {reported} <= {after}"
    );
    assert_eq!(stats["process_cpu_seconds_total"]["type"], "counter");
    let rss = v("process_resident_memory_bytes");
    assert!(rss > 1e6, "{what}: {stats}");
    assert!(v("process_virtual_memory_bytes") >= rss, "{what}: {stats}");
    let open = v("process_open_fds");
    assert!(
        open >= 3.0 && open <= v("process_max_fds"),
        "{what}: {stats}"
    );
    // The runtime's thread and the RPC or HTTP workers at least.
    assert!(v("process_threads") >= 2.0, "{what}: {stats}");
    assert!(v("process_start_time_seconds") > 0.0, "{what}: {stats}");
}

fn stats_app(stack: &Messaging) -> Value {
    get_json(stack.api(), "/v1/stats/app", &apikey())["stats"]["app"].clone()
}

fn stats_db(stack: &Messaging) -> Value {
    get_json(stack.api(), "/v1/stats/db", &apikey())["stats"]["db"].clone()
}

/// Customers write, the business answers, webhooks go out: every counter on the way moves, and
/// the three endpoints agree in JSON and in Prometheus text.
fn counters_follow_traffic(mut db_env: HashMap<String, String>) {
    // JSON logs with the stats line each second, as the AWS template's metric filters read them.
    db_env.extend(env(&[
        ("ONPREM__LOG__FORMAT", "json"),
        ("ONPREM__COREAPP__STATS_LOG_INTERVAL_SECS", "1"),
    ]));
    let receiver = Receiver::start();
    let stack = Messaging::start(&db_env, FAST_PHONES, &receiver.url());
    let api = stack.api();

    // Before any traffic: the documented shape, every statistic present, meta of the coreapp.
    let body = get_json(api, "/v1/stats/app", &apikey());
    assert!(
        !body["meta"]["version"].as_str().unwrap().starts_with('v'),
        "{body}"
    );
    let app = &body["stats"]["app"];
    assert_stat_shapes(app);
    assert_eq!(
        app["callback_queue_size"]["help"],
        "Current callback queue size"
    );
    assert_eq!(app["callback_queue_size"]["type"], "gauge");
    assert_eq!(
        app["callback_requests"]["help"],
        "Total number of callback requests made"
    );
    assert_eq!(value(app, "in_message_from_server", &[]), 0);
    assert_eq!(value(app, "out_message_persisted", &[]), 0);
    assert_eq!(value(app, "gateway_connected", &[]), 0, "unregistered");

    stack.register();
    let app = stats_app(&stack);
    assert_eq!(value(&app, "gateway_connected", &[]), 1, "{app}");
    let line = eventually("a stats log line of the connected coreapp", || {
        stack.core.log().lines().rev().find_map(|line| {
            let event: Value = serde_json::from_str(line).ok()?;
            (event["target"] == "wa_stats" && event["gateway_connected"] == 1).then_some(event)
        })
    });
    for field in [
        "pending_messages",
        "callback_queue_size",
        "callback_successes",
        "callback_failures",
        "db_request_errors",
    ] {
        assert!(line[field].is_u64(), "{field} in {line}");
    }
    stack.wanet.post(
        "/control/consumers",
        json!({"wa_id": NOT_ON_WHATSAPP, "profile": "not_on_whatsapp"}),
    );
    let check =
        json!({"blocking": "wait", "contacts": [CUSTOMER, NOT_ON_WHATSAPP], "force_check": true});
    api.call("POST", "/v1/contacts", Some(&stack.admin), Some(check))
        .expect_status(200);

    // Two inbound messages, three answers, one refused send.
    let inbound: Vec<String> = (0..2)
        .map(|i| {
            stack
                .wanet
                .consumer_says(CUSTOMER, &format!("question {i}"))
        })
        .collect();
    receiver.wait_until(WAIT, "the inbound webhooks", |bodies| {
        inbound
            .iter()
            .all(|id| bodies.iter().any(|b| b["messages"][0]["id"] == id.as_str()))
    });
    let sent: Vec<String> = (0..3)
        .map(|i| {
            let r = stack.send_text(CUSTOMER, &format!("answer {i}"));
            r.expect_status(201);
            r.body["messages"][0]["id"].as_str().unwrap().to_string()
        })
        .collect();
    api.call(
        "POST",
        "/v1/messages",
        Some(&stack.admin),
        Some(json!({"text": {"body": "to nobody"}})),
    )
    .expect_error(400, 1008);
    receiver.wait_until(WAIT, "read statuses of the answers", |bodies| {
        sent.iter().all(|id| {
            bodies
                .iter()
                .filter_map(|b| b["statuses"].as_array())
                .flatten()
                .any(|s| s["id"] == id.as_str() && s["status"] == "read")
        })
    });

    // The in-memory counters catch up with what happened (queue gauges are sampled each second).
    let app = eventually("the app counters", || {
        let app = stats_app(&stack);
        let settled = value(&app, "callback_queue_size", &[]) == 0
            && value(&app, "pending_messages", &[]) == 0
            && value(&app, "out_message_status", &[("status", "read")]) >= 3
            && value(
                &app,
                "callback_requests",
                &[("result", "success"), ("type", "status_change")],
            ) >= 9
            // A POST finishing between the reads of two statistics makes them disagree once.
            && value(&app, "callback_requests_duration_ms_count", &[])
                == value(&app, "callback_requests", &[]);
        settled.then_some(app)
    });
    assert_stat_shapes(&app);
    assert_eq!(value(&app, "in_message_from_server", &[]), 2);
    assert_eq!(value(&app, "in_message_persisted", &[]), 2);
    assert_eq!(value(&app, "out_message_persisted", &[]), 3);
    for status in ["sent", "delivered", "read"] {
        assert_eq!(
            value(&app, "out_message_status", &[("status", status)]),
            3,
            "{status}: {app}"
        );
    }
    assert_eq!(
        value(
            &app,
            "callback_requests",
            &[("result", "success"), ("type", "inbound_message")]
        ),
        2
    );
    assert_eq!(
        value(&app, "callback_requests_duration_ms_count", &[]),
        value(&app, "callback_requests", &[])
    );
    assert_eq!(
        value(
            &app,
            "out_message_sent_duration_ms_count",
            &[("retry", "0"), ("type", "text")]
        ),
        3
    );
    assert_eq!(
        value(
            &app,
            "endpoint_requests",
            &[("endpoint", "POST_v1_messages"), ("result", "ok")]
        ),
        3
    );
    assert_eq!(
        value(
            &app,
            "endpoint_requests",
            &[("endpoint", "POST_v1_messages"), ("result", "1008")]
        ),
        1
    );
    assert!(
        value(
            &app,
            "endpoint_requests_duration_ms_count",
            &[("endpoint", "POST_v1_contacts")]
        ) >= 1
    );
    assert!(value(&app, "db_request_duration_us_count", &[]) > 0);
    assert_eq!(value(&app, "pending_callbacks", &[]), 0);

    // Database statistics: counted from the tables.
    let db = eventually("the outbox to drain", || {
        let db = stats_db(&stack);
        (value(&db, "db_pending_callbacks", &[]) == 0).then_some(db)
    });
    assert_stat_shapes(&db);
    assert_eq!(
        db["db_contacts"]["help"],
        "Current number of contacts in DB"
    );
    assert_eq!(
        value(&db, "db_contacts", &[("type", "whatsapp_user")]),
        1,
        "{db}"
    );
    assert_eq!(
        value(&db, "db_contacts", &[("type", "non_whatsapp_user")]),
        1
    );
    assert_eq!(value(&db, "db_messages", &[("type", "text")]), 5);
    assert_eq!(value(&db, "db_message_receipts", &[]), 3);
    assert_eq!(value(&db, "db_pending_messages", &[]), 0);

    // The same numbers in Prometheus text.
    let text = scrape(api, "/v1/stats/app?format=prometheus", &apikey());
    assert_eq!(scraped(&text, "out_message_persisted", &[]), 3.0);
    assert_eq!(scraped(&text, "in_message_persisted", &[]), 2.0);
    assert_eq!(
        scraped(
            &text,
            "out_message_sent_duration_ms_count",
            &[("retry", "0"), ("type", "text")]
        ),
        3.0
    );
    assert_eq!(
        text.docs["callback_queue_size"],
        "Current callback queue size"
    );
    let text = scrape(api, "/v1/stats/db?format=prometheus", &stack.admin);
    assert_eq!(
        scraped(&text, "db_contacts", &[("type", "whatsapp_user")]),
        1.0
    );
    assert_eq!(scraped(&text, "db_messages", &[("type", "text")]), 5.0);
    internal_diagnostics_follow_the_same_state(&stack);

    // The webapp's own metrics: the requests above by route template and status.
    api.call("GET", "/v1/users/admin", Some(&stack.admin), None)
        .expect_status(200);
    let metrics = get_json(api, "/metrics", &apikey());
    assert!(
        metrics["meta"]["version"]
            .as_str()
            .unwrap()
            .starts_with('v'),
        "{metrics}"
    );
    let metrics = &metrics["metrics"];
    assert_stat_shapes(metrics);
    assert_eq!(
        metrics["web_uptime"]["help"],
        "Number of seconds since web server has started"
    );
    let node = metrics["web_uptime"]["data"][0]["labels"]["node"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!node.is_empty());
    // This very request is being handled.
    assert!(value(metrics, "web_requests", &[("state", "handle-request")]) >= 1);
    assert!(value(metrics, "web_handled_requests", &[]) > 10);
    assert_eq!(
        value(
            metrics,
            "api_requests_duration_ms_count",
            &[("method", "POST_v1_messages"), ("result", "201")]
        ),
        3
    );
    assert_eq!(
        value(
            metrics,
            "api_requests_duration_ms_count",
            &[("method", "GET_v1_users_username"), ("result", "200")]
        ),
        1
    );
    let coreapp_address = format!("127.0.0.1:{}", stack.core_port);
    assert!(
        value(
            metrics,
            "api_requests_coreapp_duration_ms_count",
            &[("app", &coreapp_address)]
        ) >= 4
    );
    let text = scrape(api, "/metrics?format=prometheus", &apikey());
    assert_eq!(
        scraped(
            &text,
            "api_requests_duration_ms_count",
            &[
                ("node", &node),
                ("method", "POST_v1_messages"),
                ("result", "201")
            ]
        ),
        3.0
    );
    assert!(scraped(&text, "web_uptime", &[("node", &node)]) >= 0.0);
    assert!(
        scraped(
            &text,
            "api_requests_coreapp_duration_ms_sum",
            &[("app", &coreapp_address)]
        ) >= 0.0
    );

    // Each process reports its own resources: the webapp under its `node`, the coreapp as
    // its other statistics, unlabelled; both in the text form too.
    let labels = [("node", node.as_str())];
    assert_process_stats("webapp", stack.web.service.pid(), &labels, || {
        get_json(api, "/metrics", &apikey())["metrics"].clone()
    });
    assert_process_stats("coreapp", stack.core.pid(), &[], || stats_app(&stack));
    assert!(scraped(&text, "process_resident_memory_bytes", &labels) > 0.0);
    let text = scrape(api, "/v1/stats/app?format=prometheus", &apikey());
    assert!(scraped(&text, "process_open_fds", &[]) >= 3.0);
    assert_eq!(
        text.docs["process_cpu_seconds_total"],
        "Total user and system CPU time spent in seconds"
    );
}

/// `/v1/stats/app/internal` and `/v1/stats/db/internal`: the statistics' shape under
/// `internal`, showing the connected session, its caches and pool, and the rows stored above.
fn internal_diagnostics_follow_the_same_state(stack: &Messaging) {
    let api = stack.api();
    let body = get_json(api, "/v1/stats/app/internal", &apikey());
    let app = &body["stats"]["app"]["internal"];
    assert_stat_shapes(app);
    let connected = [("status", "connected")];
    assert_eq!(
        value(app, "internal_gateway_status", &connected),
        1,
        "{app}"
    );
    assert_eq!(value(app, "internal_network_session", &[]), 1, "{app}");
    assert_eq!(value(app, "internal_ready", &[]), 1, "{app}");
    // The network's seeded templates were loaded at initialization.
    assert!(
        value(app, "internal_cache_entries", &[("cache", "templates")]) > 0,
        "{app}"
    );
    let open = value(app, "internal_db_pool_connections", &[("state", "open")]);
    let max = value(app, "internal_db_pool_connections", &[("state", "max")]);
    assert!(open >= 1 && open <= max, "{app}");

    let body = get_json(api, "/v1/stats/db/internal", &stack.admin);
    let db = &body["stats"]["db"]["internal"];
    assert_stat_shapes(db);
    // Both directions, every type: the sum of `db_messages`.
    let messages = value(&stats_db(stack), "db_messages", &[]);
    assert!(messages >= 5);
    assert_eq!(
        value(db, "db_table_rows", &[("table", "messages")]),
        messages,
        "{db}"
    );
    assert!(
        value(db, "db_table_rows", &[("table", "users")]) >= 1,
        "{db}"
    );
    assert_eq!(value(db, "db_backend", &[]), 1, "{db}");

    let text = scrape(api, "/v1/stats/db/internal?format=prometheus", &apikey());
    let rows = scraped(&text, "db_table_rows", &[("table", "messages")]);
    assert_eq!(rows, messages as f64);
    let text = scrape(api, "/v1/stats/app/internal?format=prometheus", &apikey());
    assert_eq!(scraped(&text, "internal_ready", &[]), 1.0);
}

#[test]
fn counters_follow_traffic_on_sqlite() {
    let db = TestDb::new(Backend::Sqlite);
    counters_follow_traffic(env(&[("ONPREM__DATABASE__URL", &db.url)]));
}

#[test]
fn counters_follow_traffic_on_mysql() {
    let db = TestDb::new(Backend::Mysql);
    counters_follow_traffic(env(&[("ONPREM__DATABASE__URL", &db.url)]));
}

#[test]
fn counters_follow_traffic_on_postgres() {
    let db = TestDb::new(Backend::Postgres);
    counters_follow_traffic(env(&[("ONPREM__DATABASE__URL", &db.url)]));
}

/// Who may read the monitoring endpoints: any signed-in user or the API key; nobody else.
#[test]
fn monitoring_endpoints_take_a_bearer_or_the_api_key() {
    let db = TestDb::new(Backend::Sqlite);
    let vars = env(&[("ONPREM__DATABASE__URL", &db.url)]);
    let (_core, core_port) = coreapp(&vars);
    let web = webapp(&vars, core_port);
    let admin = web.client.first_login(ADMIN_PASSWORD);
    web.client
        .call(
            "POST",
            "/v1/users",
            Some(&admin),
            Some(json!({"username": "ops", "password": "0ps!Secret"})),
        )
        .expect_status(201);
    let user = web.client.bearer("ops", "0ps!Secret");
    for path in [
        "/v1/stats/app",
        "/v1/stats/db",
        "/v1/stats/app/internal",
        "/v1/stats/db/internal",
        "/metrics",
        "/metrics/",
        "/v1/stats/app?format=prometheus",
    ] {
        for auth in [&apikey(), &admin, &user] {
            web.client
                .call("GET", path, Some(auth), None)
                .expect_status(200);
        }
        web.client
            .call("GET", path, None, None)
            .expect_error(401, 1005);
        web.client
            .call("GET", path, Some("Apikey not-the-monitoring-key"), None)
            .expect_error(401, 1005);
        web.client
            .call("POST", path, Some(&apikey()), None)
            .expect_error(405, 1014);
    }
    // Not on /v1, as in the original.
    web.client
        .call("GET", "/v1/metrics", Some(&apikey()), None)
        .expect_error(404, 1006);
}

/// A burst over an endpoint's limit: the allowance is served, the excess gets 429/1015, and
/// other endpoints keep their own allowance.
#[test]
fn request_rate_limits_refuse_the_excess_of_a_burst() {
    let db = TestDb::new(Backend::Sqlite);
    let vars = env(&[
        ("ONPREM__DATABASE__URL", &db.url),
        // One request a second refills far slower than the bursts below are sent, whatever
        // the machine's speed: at most a few refills happen during a burst.
        ("ONPREM__WEBAPP__ENDPOINT_RATE_PER_SEC", "1"),
        ("ONPREM__WEBAPP__ENDPOINT_RATE_BURST", "5"),
        ("ONPREM__WEBAPP__MESSAGES_RATE_PER_SEC", "1"),
        ("ONPREM__WEBAPP__MESSAGES_RATE_BURST", "3"),
    ]);
    let (_core, core_port) = coreapp(&vars);
    let web = webapp(&vars, core_port);
    let admin = web.client.first_login(ADMIN_PASSWORD);

    // One after the other on /v1/health: the first five are served, most of the rest refused.
    let replies: Vec<_> = (0..20)
        .map(|_| web.client.call("GET", "/v1/health", Some(&apikey()), None))
        .collect();
    assert!(replies[..5].iter().all(|r| r.status == 200), "{replies:#?}");
    let refused: Vec<_> = replies.iter().filter(|r| r.status == 429).collect();
    assert!(refused.len() >= 10, "only {} refused", refused.len());
    assert!(replies.iter().all(|r| [200, 429].contains(&r.status)));
    let refusal = refused[0];
    refusal.expect_error(429, 1015);
    assert_eq!(refusal.details(), "Rate limiting exceeded on /v1/health");
    let retry_after: u64 = refusal.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_eq!(
        refusal.headers["x-request-id"].to_str().unwrap().len(),
        32,
        "refusals still carry a request id"
    );

    // Another endpoint has its own bucket.
    web.client
        .call("GET", "/v1/users/admin", Some(&admin), None)
        .expect_status(200);

    // Sends at once from several clients: three get through to the coreapp (which refuses
    // them, not being registered), the others are stopped at the webapp.
    let port = web.port;
    let senders: Vec<_> = (0..10)
        .map(|i| {
            let admin = admin.clone();
            std::thread::spawn(move || {
                let body = json!({"to": "16315550100", "text": {"body": format!("burst {i}")}});
                Client::new(port).call("POST", "/v1/messages", Some(&admin), Some(body))
            })
        })
        .collect();
    let answers: Vec<_> = senders.into_iter().map(|t| t.join().unwrap()).collect();
    let served = answers.iter().filter(|r| r.code() == 1011).count();
    let limited: Vec<_> = answers.iter().filter(|r| r.status == 429).collect();
    assert!((3..=6).contains(&served), "{answers:#?}");
    assert_eq!(served + limited.len(), 10, "{answers:#?}");
    limited[0].expect_error(429, 1015);
    assert_eq!(
        limited[0].details(),
        "Rate limiting exceeded on /v1/messages"
    );

    // The refusals are in the webapp's metrics. (`/metrics` has its own bucket.)
    let metrics = get_json(&web.client, "/metrics", &apikey());
    assert_eq!(
        value(
            &metrics["metrics"],
            "api_requests_duration_ms_count",
            &[("method", "POST_v1_messages"), ("result", "429")]
        ),
        limited.len() as i64
    );
}

/// While webhooks pile up in the outbox beyond the configured limit, sends are refused with
/// 503/1016; once the receiver takes them again, sends are accepted again.
#[test]
fn sends_are_refused_with_1016_while_the_callback_queue_is_full() {
    let db = TestDb::new(Backend::Sqlite);
    let db_env = env(&[
        ("ONPREM__DATABASE__URL", &db.url),
        ("ONPREM__COREAPP__MAX_CALLBACK_QUEUE_SIZE", "3"),
    ]);
    let receiver = Receiver::start();
    let stack = Messaging::start(&db_env, FAST_PHONES, &receiver.url());
    stack.register();
    stack.send_text(CUSTOMER, "before").expect_status(201);

    receiver.answer_with(500);
    for i in 0..3 {
        stack.wanet.consumer_says(CUSTOMER, &format!("unheard {i}"));
    }
    eventually("the outbox to fill", || {
        (value(&stats_app(&stack), "callback_queue_size", &[]) >= 3).then_some(())
    });
    let refused = stack.send_text(CUSTOMER, "while overloaded");
    refused.expect_error(503, 1016);
    assert!(
        refused.details().contains("webhooks are waiting"),
        "{}",
        refused.details()
    );
    let app = stats_app(&stack);
    assert!(value(&app, "concurrent_rate_limit_triggered", &[]) >= 1);
    assert!(
        value(
            &app,
            "callback_requests",
            &[("result", "500"), ("type", "inbound_message")]
        ) >= 1,
        "{app}"
    );

    receiver.answer_with(200);
    eventually("sends to be accepted again", || {
        let reply = stack.send_text(CUSTOMER, "after");
        match reply.status {
            201 => Some(()),
            503 => None,
            _ => panic!("unexpected answer {:#?}", reply.body),
        }
    });
}
