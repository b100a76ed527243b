//! The compose files, run for real without Docker (issue 6). Each stack test takes exactly the
//! environment `wanet`, `wacore` and `waweb` get in a compose file (the image's `ENV`, the
//! `env_file`, the `environment`), changes only what cannot be the same on one machine (service
//! host names -> 127.0.0.1, container ports -> free local ports, the `db` service -> a fresh
//! database on the test server), prints those changes, starts the real binaries with the result and
//! goes through a first day: first login, registration through wanet, a message answered 201 whose
//! `delivered` webhook arrives. MariaDB through `docker-compose.yml`, PostgreSQL through
//! `deploy/compose/postgres.yml`. A last test checks every compose file against typed models of the
//! Compose specification. Run with `-- --nocapture` to see the overridden variables.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use e2e::compose::{repo_root, Compose, Localizer};
use e2e::webhooks::has_status;
use e2e::{Client, Receiver, Service, ADMIN_PASSWORD};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use wa_store::testing::TestDb;
use wa_store::Backend;

const COMPOSE_FILES: &[&str] = &[
    "docker-compose.yml",
    "deploy/compose/postgres.yml",
    "deploy/compose/two-webapps.yml",
    "deploy/compose/ha.yml",
    "deploy/compose/multiconnect.yml",
    "deploy/compose/ha-postgres.yml",
    "deploy/compose/multiconnect-postgres.yml",
    "deploy/compose/production.yml",
    "deploy/compose/dbupgrade.yml",
];
const WAIT: Duration = Duration::from_secs(60);
/// The variables the test sets, on top of the compose file, for the database.
const DB_VARS: &[&str] = &[
    "WA_DB_HOSTNAME",
    "WA_DB_PORT",
    "WA_DB_USERNAME",
    "WA_DB_PASSWORD",
];

/// What `docker compose` would get from the shell: only the required version pin and the
/// secrets key.
fn compose_vars() -> HashMap<String, String> {
    HashMap::from([
        ("WA_API_VERSION".to_string(), "e2e".to_string()),
        (
            "WA_SECRETS_KEY".to_string(),
            wa_store::testing::TEST_SECRETS_KEY.to_string(),
        ),
    ])
}

/// wanet's control API, as a test or demo drives it.
struct Control {
    base: String,
    http: reqwest::blocking::Client,
}

impl Control {
    fn new(port: u16) -> Control {
        Control {
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().unwrap();
        (
            response.status().as_u16(),
            response.json().unwrap_or_default(),
        )
    }
}

/// The three services of a compose file started as processes with the compose environment.
struct Stack {
    // Fields drop in order: the processes stop before the test database is dropped.
    _web: Service,
    core: Service,
    _wanet: Service,
    /// Stands in for the wanetData volume.
    _wanet_data: tempfile::TempDir,
    api: Client,
    control: Control,
    _db: TestDb,
}

fn start_compose_stack(file: &str, backend: Backend) -> Stack {
    let db = TestDb::new(backend);
    let compose = Compose::load(file, &compose_vars());
    let mut local = Localizer::new(&compose);
    let mut envs: BTreeMap<&str, BTreeMap<String, String>> = ["wanet", "wacore", "waweb"]
        .into_iter()
        .map(|s| (s, compose.environment(s)))
        .collect();

    // The database: the test server and a fresh database instead of the `db` service. Engine,
    // idle timeout and everything else stay as the compose file has them.
    let url = url::Url::parse(&db.url).unwrap();
    let default_port = if backend == Backend::Mysql {
        3306
    } else {
        5432
    };
    let name = url.path().trim_start_matches('/').to_string();
    for service in ["wacore", "waweb"] {
        let env = envs.get_mut(service).unwrap();
        local.set(service, env, "WA_DB_HOSTNAME", url.host_str().unwrap());
        let port = url.port().unwrap_or(default_port).to_string();
        local.set(service, env, "WA_DB_PORT", port);
        local.set(service, env, "WA_DB_USERNAME", url.username());
        local.set(service, env, "WA_DB_PASSWORD", url.password().unwrap_or(""));
        local.set(service, env, "ONPREM__DATABASE__NAME", name.as_str());
    }
    // Host names and listen addresses of the compose network -> loopback and free ports.
    for (service, env) in &mut envs {
        local.localize_addresses(service, env, DB_VARS);
    }
    // Listeners the binaries take from their built-in defaults (docs/configuration.md): 443 and
    // 6250 inside the containers, which a test cannot bind on a shared machine.
    let web_port = local.port("waweb", 443);
    let core_port = local.port("wacore", 6250);
    let web_env = envs.get_mut("waweb").unwrap();
    local.set(
        "waweb",
        web_env,
        "ONPREM__WEBAPP__LISTEN",
        format!("127.0.0.1:{web_port}"),
    );
    local.set(
        "waweb",
        web_env,
        "ONPREM__WEBAPP__COREAPP_PORT",
        core_port.to_string(),
    );
    let core_env = envs.get_mut("wacore").unwrap();
    local.set(
        "wacore",
        core_env,
        "ONPREM__COREAPP__LISTEN",
        format!("127.0.0.1:{core_port}"),
    );
    // The network's volume: a temporary folder instead of /usr/local/wanet.
    let wanet_data = tempfile::tempdir().unwrap();
    let wanet_env = envs.get_mut("wanet").unwrap();
    let data_dir = wanet_data.path().to_str().unwrap();
    local.set("wanet", wanet_env, "WANET_DATA_DIR", data_dir);
    println!(
        "{file} on {backend:?}: the compose environment with these variables changed:\n{}",
        local.report()
    );
    for (service, env) in &envs {
        let kept: Vec<&String> = env.keys().collect();
        println!("  {service:>7}  runs with {kept:?}");
    }

    // The binaries the compose services build (build target = binary name).
    let start = |service: &str| {
        let binary = compose.build_target(service).unwrap();
        let env: HashMap<String, String> = envs[service].clone().into_iter().collect();
        Service::start(&binary, &[], &env)
    };
    let (wanet_port, control_port) = (local.port("wanet", 5222), local.port("wanet", 5280));
    let mut wanet = start("wanet");
    wanet.wait_for_port(control_port);
    wanet.wait_for_port(wanet_port);
    let mut core = start("wacore");
    core.wait_for_port(core_port);
    let mut web = start("waweb");
    web.wait_for_port(web_port);
    Stack {
        _web: web,
        core,
        _wanet: wanet,
        _wanet_data: wanet_data,
        api: Client::new(web_port),
        control: Control::new(control_port),
        _db: db,
    }
}

/// First login, webhooks, registration, an inbound message opening the customer-service window,
/// then a reply: 201 and its `delivered` webhook.
fn first_day(stack: &Stack) {
    let receiver = Receiver::start();
    let api = &stack.api;
    // The first login must set the password (1024 before); then the token works.
    api.login("admin", "secret", None).expect_error(401, 1024);
    let admin = api.first_login(ADMIN_PASSWORD);
    let settings = json!({
        "webhooks": { "url": receiver.url(), "message": { "sent": true, "delivered": true } },
        "callback_backoff_delay_ms": 200,
        "max_callback_backoff_delay_ms": 1000,
    });
    api.call(
        "PATCH",
        "/v1/settings/application",
        Some(&admin),
        Some(settings),
    )
    .expect_status(200);

    // Registration: a certificate from wanet, the code by "sms" (read through the control API).
    let (status, cert) = stack.control.call(
        "POST",
        "/control/certs",
        Some(json!({ "vname": "Acme Corp" })),
    );
    assert_eq!(status, 201, "{cert}");
    let account =
        json!({ "cc": "1", "phone_number": "6315550000", "method": "sms", "cert": cert["cert"] });
    api.call("POST", "/v1/account", Some(&admin), Some(account))
        .expect_status(202);
    let (status, code) = stack
        .control
        .call("GET", "/control/codes/16315550000", None);
    assert_eq!(status, 200, "{code}");
    let code = code["code"].as_str().unwrap();
    let verify = json!({ "code": format!("{}-{}", &code[..3], &code[3..]) });
    api.call("POST", "/v1/account/verify", Some(&admin), Some(verify))
        .expect_status(201);
    let deadline = Instant::now() + WAIT;
    loop {
        let health = api.call("GET", "/v1/health", Some(&admin), None);
        if health.body["health"]["gateway_status"] == "connected" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "gateway never connected: {:#?}\n{}",
            health.body,
            stack.core.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // A customer writes first (free-form replies need the 24-hour window), the business answers.
    let (status, reply) = stack.control.call(
        "POST",
        "/control/consumers/16315550100/messages",
        Some(json!({ "type": "text", "text": { "body": "Hello from compose" } })),
    );
    assert_eq!(status, 201, "{reply}");
    let inbound = reply["id"].as_str().unwrap().to_string();
    receiver.wait_until(WAIT, "the inbound webhook", |bodies| {
        bodies.iter().any(|b| b["messages"][0]["id"] == inbound)
    });
    let message = json!({ "to": "16315550100", "type": "text", "text": { "body": "Thanks!" } });
    let sent = api.call("POST", "/v1/messages", Some(&admin), Some(message));
    sent.expect_status(201);
    let id = sent.body["messages"][0]["id"].as_str().unwrap().to_string();
    receiver.wait_until(WAIT, "the delivered webhook", |bodies| {
        has_status(bodies, &id, "delivered")
    });
}

#[test]
fn docker_compose_yml_environment_runs_on_mariadb() {
    let compose = Compose::load("docker-compose.yml", &compose_vars());
    let core = compose.environment("wacore");
    assert_eq!(core.get("WA_DB_ENGINE").map(String::as_str), Some("MYSQL"));
    assert_eq!(
        compose
            .environment("waweb")
            .get("WACORE_HOSTNAME")
            .map(String::as_str),
        Some("wacore")
    );
    first_day(&start_compose_stack("docker-compose.yml", Backend::Mysql));
}

#[test]
fn postgres_variant_environment_runs_on_postgresql() {
    let compose = Compose::load("deploy/compose/postgres.yml", &compose_vars());
    let core = compose.environment("wacore");
    assert_eq!(core.get("WA_DB_ENGINE").map(String::as_str), Some("PGSQL"));
    assert_eq!(core.get("WA_DB_PORT").map(String::as_str), Some("5432"));
    first_day(&start_compose_stack(
        "deploy/compose/postgres.yml",
        Backend::Postgres,
    ));
}

/// Every compose file deserializes into typed Compose-specification models (unknown keys and
/// malformed ports, durations, depends_on, volumes fail), refuses to start without
/// WA_API_VERSION or without WA_SECRETS_KEY, and the variants give the services the same settings as the main file except
/// where they mean to differ.
#[test]
fn compose_files_follow_the_compose_spec_and_agree() {
    for file in COMPOSE_FILES {
        let path = repo_root().join(file);
        let value = Compose::interpolated(&path, &compose_vars()).unwrap();
        let parsed = compose_spec::Compose::options()
            .apply_merge(true)
            // JSON text is YAML, so the typed models read the interpolated document as it is.
            .from_yaml_str(&value.to_string())
            .unwrap_or_else(|e| panic!("{file}: not a valid compose file: {e}"));
        parsed
            .validate_all()
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut unpinned = compose_vars();
        unpinned.remove("WA_API_VERSION");
        let without = Compose::interpolated(&path, &unpinned).unwrap_err();
        assert!(
            without.contains("WA_API_VERSION"),
            "{file} must refuse to start without WA_API_VERSION: {without}"
        );
        let mut keyless = compose_vars();
        keyless.remove("WA_SECRETS_KEY");
        let without = Compose::interpolated(&path, &keyless).unwrap_err();
        assert!(
            without.contains("WA_SECRETS_KEY"),
            "{file} must refuse to start without WA_SECRETS_KEY: {without}"
        );
    }

    let main = Compose::load("docker-compose.yml", &compose_vars());
    let postgres = Compose::load("deploy/compose/postgres.yml", &compose_vars());
    let two = Compose::load("deploy/compose/two-webapps.yml", &compose_vars());
    for service in ["wanet", "wacore", "waweb"] {
        let differing: Vec<String> =
            diff(&main.environment(service), &postgres.environment(service));
        let expected = if service == "wanet" {
            vec![]
        } else {
            vec!["WA_DB_ENGINE", "WA_DB_PORT", "WA_DB_USERNAME"]
        };
        assert_eq!(differing, expected, "{service}: main vs postgres variant");
    }
    for service in ["wanet", "wacore"] {
        assert_eq!(main.environment(service), two.environment(service));
    }
    // Behind the balancer the webapps also take the client address from its PROXY header.
    for web in ["waweb1", "waweb2"] {
        let differing = diff(&main.environment("waweb"), &two.environment(web));
        assert_eq!(differing, vec!["WA_WEB_PROXY_PROTOCOL"], "{web}");
        assert_eq!(two.environment(web)["WA_WEB_PROXY_PROTOCOL"], "1", "{web}");
    }
}

/// The cluster files (docs/ha.md): every master and coreapp has the single coreapp's settings
/// plus Meta's cluster variables, its own service name as COREAPP_HOSTNAME, WA_MASTER_NODE=1 on
/// masters only; the webapp is in cluster mode.
#[test]
fn cluster_compose_files_set_meta_variables_on_every_node() {
    let main = Compose::load("docker-compose.yml", &compose_vars());
    let postgres = Compose::load("deploy/compose/postgres.yml", &compose_vars());
    for (file, masters, coreapps, single) in [
        ("deploy/compose/ha.yml", 2, 2, &main),
        ("deploy/compose/multiconnect.yml", 2, 3, &main),
        ("deploy/compose/ha-postgres.yml", 2, 2, &postgres),
        ("deploy/compose/multiconnect-postgres.yml", 2, 3, &postgres),
    ] {
        let compose = Compose::load(file, &compose_vars());
        let nodes: Vec<String> = (1..=masters)
            .map(|i| format!("master{i}"))
            .chain((1..=coreapps).map(|i| format!("wacore{i}")))
            .collect();
        let mut services = compose.services();
        services.sort();
        let mut expected: Vec<String> = ["db", "wanet", "waweb"]
            .iter()
            .map(|s| s.to_string())
            .chain(nodes.iter().cloned())
            .collect();
        expected.sort();
        assert_eq!(services, expected, "{file}");
        for node in &nodes {
            let env = compose.environment(node);
            let mut added = diff(&single.environment("wacore"), &env);
            added.sort();
            let mut wanted = vec![
                "COREAPP_EXTERNAL_PORTS",
                "COREAPP_HOSTNAME",
                "WA_APP_MULTICONNECT",
            ];
            if node.starts_with("master") {
                wanted.push("WA_MASTER_NODE");
            }
            wanted.sort();
            assert_eq!(added, wanted, "{file} {node}");
            assert_eq!(env["COREAPP_HOSTNAME"], *node, "{file}");
            assert_eq!(env["WA_APP_MULTICONNECT"], "1", "{file}");
        }
        let web = compose.environment("waweb");
        assert_eq!(web["WA_APP_MULTICONNECT"], "1", "{file}");
    }
}

fn diff(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    let mut keys: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The production file (Meta's prod-docker-compose.yml plus dbupgrade): no `db`, the database
/// settings and TLS from production.env for every service on the database, and the one-shot
/// upgrade with exactly the coreapp's database settings plus WA_DB_UPGRADE=1.
#[test]
fn production_file_has_no_db_and_upgrades_first() {
    let prod = Compose::load("deploy/compose/production.yml", &compose_vars());
    let mut services = prod.services();
    services.sort();
    assert_eq!(services, ["dbupgrade", "wacore", "wanet", "waweb"]);
    for service in ["dbupgrade", "wacore", "waweb"] {
        let env = prod.environment(service);
        assert_eq!(env["WA_DB_SSL_CA"], "/opt/certs/db-ca.pem", "{service}");
        assert_eq!(env["WA_DB_SSL_VERIFY"], "1", "{service}");
        assert_ne!(env["WA_DB_HOSTNAME"], "db", "{service}: an external server");
    }
    let mut upgrade = prod.environment("dbupgrade");
    assert_eq!(upgrade.remove("WA_DB_UPGRADE").as_deref(), Some("1"));
    let mut core = prod.environment("wacore");
    core.remove("ONPREM__COREAPP__NETWORK_ADDRESS");
    assert_eq!(upgrade, core);
    let standalone = Compose::load("deploy/compose/dbupgrade.yml", &compose_vars());
    let mut upgrade = standalone.environment("dbupgrade");
    upgrade.remove("WA_DB_UPGRADE");
    let mut single = Compose::load("docker-compose.yml", &compose_vars()).environment("wacore");
    single.remove("ONPREM__COREAPP__NETWORK_ADDRESS");
    assert_eq!(
        upgrade, single,
        "dbupgrade.yml reads the single-host stack's db.env"
    );
}
