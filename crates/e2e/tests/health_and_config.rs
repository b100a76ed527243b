//! `/v1/health` when the coreapp is away, and configuration errors at start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{coreapp, env, webapp};
use e2e::{free_port, Service, ADMIN_PASSWORD, API_KEY};
use std::time::Duration;
use wa_store::testing::TestDb;
use wa_store::Backend;

#[test]
fn health_reports_an_unreachable_coreapp_with_1014() {
    let db = TestDb::new(Backend::Sqlite);
    let vars = env(&[("ONPREM__DATABASE__URL", &db.url)]);
    let (mut core, core_port) = coreapp(&vars);
    let web = webapp(&vars, core_port);
    let admin = web.client.first_login(ADMIN_PASSWORD);
    let apikey = format!("Apikey {API_KEY}");
    web.client
        .call("GET", "/v1/health", Some(&apikey), None)
        .expect_status(200);

    core.kill();
    let r = web.client.call("GET", "/v1/health", Some(&admin), None);
    r.expect_error(500, 1014);
    assert_eq!(
        r.details(),
        format!("Connection refused. Please check if wacore is running: 127.0.0.1:{core_port}")
    );
    // Everything that does not need the coreapp keeps working.
    web.client
        .call("GET", "/v1/users/admin", Some(&admin), None)
        .expect_status(200);
}

#[test]
fn invalid_configuration_stops_with_a_clear_message() {
    let vars = env(&[("WA_DB_ENGINE", "oracle"), ("WA_API_KEY", "short")]);
    let mut web = Service::start("webapp", &[], &vars);
    let code = web.wait_exit(Duration::from_secs(30));
    assert_eq!(code, Some(2));
    let log = web.log();
    assert!(log.contains("WA_DB_ENGINE"), "{log}");
    assert!(log.contains("WA_API_KEY"), "{log}");
    assert!(log.contains("no secrets key"), "{log}");
}

/// The webapp and the coreapp refuse to start without the key the database's secrets are sealed
/// with, and say what to set.
#[test]
fn without_a_secrets_key_webapp_and_coreapp_refuse_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("waent.db").display());
    for binary in ["webapp", "coreapp"] {
        let vars = env(&[("ONPREM__DATABASE__URL", &url)]);
        let mut service = Service::start(binary, &[], &vars);
        assert_eq!(service.wait_exit(Duration::from_secs(30)), Some(2));
        let log = service.log();
        assert!(log.contains("no secrets key"), "{binary}: {log}");
        assert!(log.contains("WA_SECRETS_KEY_FILE"), "{binary}: {log}");
    }
    assert!(!dir.path().join("waent.db").exists());
}

#[test]
fn print_config_shows_effective_values_with_secrets_redacted() {
    let vars = env(&[
        ("WA_DB_ENGINE", "PGSQL"),
        ("WA_DB_HOSTNAME", "db"),
        ("WA_DB_USERNAME", "postgres"),
        ("WA_DB_PASSWORD", "hunter2-secret"),
        ("WA_API_KEY", "api-key-secret-1234"),
        ("WA_WEB_SERVERNAME", "api.example.com"),
        ("WA_SECRETS_KEY", wa_store::testing::TEST_SECRETS_KEY),
    ]);
    let mut core = Service::start("coreapp", &["--print-config"], &vars);
    assert_eq!(core.wait_exit(Duration::from_secs(30)), Some(0));
    let printed = core.log();
    assert!(printed.contains("engine = \"PGSQL\""), "{printed}");
    assert!(
        printed.contains("server_name = \"api.example.com\""),
        "{printed}"
    );
    assert!(!printed.contains("hunter2-secret"), "{printed}");
    assert!(!printed.contains("api-key-secret-1234"), "{printed}");
    assert!(
        !printed.contains(wa_store::testing::TEST_SECRETS_KEY),
        "{printed}"
    );
}

#[test]
fn an_unreachable_database_is_retried_then_reported() {
    // A PostgreSQL URL on a port where nothing listens: the webapp keeps retrying for the start-up
    // timeout (short here), then exits non-zero with the reason.
    let port = free_port();
    let vars = env(&[
        (
            "ONPREM__DATABASE__URL",
            &format!("postgres://nobody:pw@127.0.0.1:{port}/waent"),
        ),
        ("ONPREM__DATABASE__STARTUP_TIMEOUT_SECS", "3"),
        ("WA_SECRETS_KEY", wa_store::testing::TEST_SECRETS_KEY),
    ]);
    let mut web = Service::start("webapp", &[], &vars);
    assert_eq!(web.wait_exit(Duration::from_secs(60)), Some(1));
    let log = web.log();
    assert!(log.contains("database"), "{log}");
}

/// `--help` of every binary names the environment it reads: the general form, the log settings
/// and the On-Prem names (wanet: its own `WANET_*` flags and the log settings).
#[test]
fn help_lists_the_environment_variables() {
    let wanted: &[(&str, &[&str])] = &[
        (
            "webapp",
            &[
                "ONPREM__LOG__LEVEL",
                "WA_DB_ENGINE",
                "WA_API_KEY",
                "WACORE_HOSTNAME",
            ],
        ),
        (
            "coreapp",
            &["ONPREM__LOG__FORMAT", "WA_DB_PASSWORD", "WA_MASTER_NODE"],
        ),
        (
            "wa-dev",
            &["ONPREM_CONFIG", "WA_DB_ENGINE", "WANET_DATABASE_URL"],
        ),
        (
            "wanet",
            &["ONPREM__LOG__LEVEL", "WANET_LISTEN", "WANET_DATA_DIR"],
        ),
    ];
    for (binary, names) in wanted {
        let mut process = Service::start(binary, &["--help"], &env(&[]));
        assert_eq!(
            process.wait_exit(Duration::from_secs(30)),
            Some(0),
            "{binary}"
        );
        let help = process.log();
        for name in *names {
            assert!(help.contains(name), "{binary} --help lacks {name}:\n{help}");
        }
    }
}

/// wanet logs as the other binaries are told to: here one JSON object per line.
#[test]
fn wanet_follows_the_log_settings() {
    let (port, control) = (free_port(), free_port());
    let (listen, control_listen) = (format!("127.0.0.1:{port}"), format!("127.0.0.1:{control}"));
    let args = ["--listen", &listen, "--control-listen", &control_listen];
    let vars = env(&[
        ("ONPREM__LOG__FORMAT", "json"),
        ("ONPREM__LOG__LEVEL", "info"),
    ]);
    let mut net = Service::start("wanet", &args, &vars);
    net.wait_for_port(control);
    let log = net.log();
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "wanet logged nothing");
    for line in &lines {
        let parsed: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}\n{log}"));
        assert!(parsed["level"].is_string(), "{line}");
    }
}

/// The webapp passes its request id to the coreapp, whose log lines for that call carry it.
#[test]
fn the_request_id_reaches_the_coreapp_log() {
    let db = TestDb::new(Backend::Sqlite);
    let vars = env(&[("ONPREM__DATABASE__URL", &db.url)]);
    let (core, core_port) = coreapp(&vars);
    let web = webapp(&vars, core_port);
    let admin = web.client.first_login(ADMIN_PASSWORD);
    let id = "fidelity-trace-4711";
    let request = web
        .client
        .request("POST", "/v1/messages")
        .header("Authorization", &admin)
        .header("X-Request-ID", id)
        .json(&serde_json::json!({"to": "16315551234", "type": "text", "text": {"body": "hi"}}));
    // Not connected to any network: refused with 1011, which the coreapp logs.
    let reply = web.client.send(request);
    reply.expect_error(500, 1011);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !core.log().contains(id) {
        assert!(
            std::time::Instant::now() < deadline,
            "the coreapp never logged {id}:\n{}",
            core.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let line = core
        .log()
        .lines()
        .find(|l| l.contains(id))
        .unwrap()
        .to_string();
    assert!(line.contains("not ready"), "{line}");
    assert!(
        web.service.log().contains(id),
        "the webapp's access log names it too"
    );
}
