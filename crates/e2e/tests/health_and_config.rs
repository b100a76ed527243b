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
    ]);
    let mut web = Service::start("webapp", &[], &vars);
    assert_eq!(web.wait_exit(Duration::from_secs(60)), Some(1));
    let log = web.log();
    assert!(log.contains("database"), "{log}");
}
