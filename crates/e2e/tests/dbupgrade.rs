//! `WA_DB_UPGRADE=1` (Meta's `dbupgrade` container, deploy/compose/production.yml): the coreapp
//! binary applies the pending migrations and exits 0 without serving; run again on the upgraded
//! database it applies nothing; a coreapp then starts on it. A database it cannot reach makes it
//! exit with a failure, which `restart: on-failure` retries. MariaDB, PostgreSQL and SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::env;
use e2e::{free_port, Service};
use std::collections::HashMap;
use std::time::Duration;
use wa_store::testing::TestDb;
use wa_store::Backend;

/// Generous: a debug build on a loaded machine, with every migration of a fresh database.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// Runs the coreapp once with `WA_DB_UPGRADE=1` on `vars`; its exit code and log.
fn upgrade_run(vars: &HashMap<String, String>) -> (Option<i32>, String) {
    let mut vars = vars.clone();
    e2e::stack::with_secrets_key(&mut vars);
    vars.insert("WA_DB_UPGRADE".into(), "1".into());
    // It must not serve: a listener here would be found by the check below.
    let port = free_port();
    vars.insert(
        "ONPREM__COREAPP__LISTEN".into(),
        format!("127.0.0.1:{port}"),
    );
    let mut run = Service::start("coreapp", &[], &vars);
    let code = run.wait_exit(RUN_TIMEOUT);
    let log = run.log();
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the upgrade run listened on its RPC port:\n{log}"
    );
    (code, log)
}

/// The number in the log line "database upgrade done: N migration(s) applied".
fn applied(log: &str) -> usize {
    let line = log
        .lines()
        .find(|l| l.contains("database upgrade done"))
        .unwrap_or_else(|| panic!("no 'database upgrade done' line in:\n{log}"));
    let count = line
        .split("done: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no count in {line:?}"));
    count
        .parse()
        .unwrap_or_else(|_| panic!("count in {line:?}"))
}

fn upgrades_then_serves(backend: Backend) {
    let db = TestDb::new(backend);
    let mut vars = env(&[("ONPREM__DATABASE__URL", &db.url)]);
    e2e::stack::with_secrets_key(&mut vars);

    let (code, log) = upgrade_run(&vars);
    assert_eq!(code, Some(0), "first upgrade run:\n{log}");
    let first = applied(&log);
    assert!(first > 0, "a fresh database needs migrations:\n{log}");

    let (code, log) = upgrade_run(&vars);
    assert_eq!(code, Some(0), "second upgrade run:\n{log}");
    assert_eq!(applied(&log), 0, "the schema was already current:\n{log}");

    // The stack that starts after it finds the schema current and serves.
    let port = free_port();
    let mut serving = vars.clone();
    serving.insert(
        "ONPREM__COREAPP__LISTEN".into(),
        format!("127.0.0.1:{port}"),
    );
    let mut core = Service::start("coreapp", &[], &serving);
    core.wait_for_port(port);
    println!("{backend:?}: {first} migrations applied by the dbupgrade run, then 0");
}

#[test]
fn dbupgrade_migrates_and_exits_on_mysql() {
    upgrades_then_serves(Backend::Mysql);
}

#[test]
fn dbupgrade_migrates_and_exits_on_postgres() {
    upgrades_then_serves(Backend::Postgres);
}

#[test]
fn dbupgrade_migrates_and_exits_on_sqlite() {
    upgrades_then_serves(Backend::Sqlite);
}

/// No database answering within the startup timeout: a failure exit, so compose restarts it.
#[test]
fn dbupgrade_fails_when_the_database_is_unreachable() {
    let closed = free_port();
    let vars = env(&[
        (
            "ONPREM__DATABASE__URL",
            &format!("mysql://nobody:nothing@127.0.0.1:{closed}/waent"),
        ),
        ("ONPREM__DATABASE__STARTUP_TIMEOUT_SECS", "2"),
    ]);
    let (code, log) = upgrade_run(&vars);
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains("database upgrade failed"), "{log}");
}
