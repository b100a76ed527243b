//! Ready-made deployments: the one-process launcher, or separate coreapp and webapp processes.

use crate::{free_port, Client, Service, API_KEY};
use std::collections::HashMap;
use std::path::Path;

pub fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A process serving the API, with a client pointed at it.
pub struct Running {
    pub service: Service,
    pub port: u16,
    pub client: Client,
}

/// README command 1's binary (`wa-dev`) on a data directory, with the monitoring key set.
pub fn launcher(data_dir: &Path, extra_env: &[(&str, &str)]) -> Running {
    let port = free_port();
    let mut vars = env(&[("WA_API_KEY", API_KEY)]);
    vars.extend(env(extra_env));
    let listen = format!("127.0.0.1:{port}");
    let data = data_dir.to_str().unwrap();
    let mut service = Service::start("wa-dev", &["--data-dir", data, "--listen", &listen], &vars);
    service.wait_for_port(port);
    Running {
        service,
        port,
        client: Client::new(port),
    }
}

/// A coreapp binary with the given database environment; returns it and its RPC port.
pub fn coreapp(db_env: &HashMap<String, String>) -> (Service, u16) {
    let port = free_port();
    let mut vars = db_env.clone();
    vars.insert(
        "ONPREM__COREAPP__LISTEN".into(),
        format!("127.0.0.1:{port}"),
    );
    let mut service = Service::start("coreapp", &[], &vars);
    service.wait_for_port(port);
    (service, port)
}

/// A webapp binary with the given database environment, talking to the coreapp on `core_port`.
pub fn webapp(db_env: &HashMap<String, String>, core_port: u16) -> Running {
    let port = free_port();
    let mut vars = db_env.clone();
    vars.insert("WA_API_KEY".into(), API_KEY.into());
    vars.insert("WACORE_HOSTNAME".into(), "127.0.0.1".into());
    vars.insert("ONPREM__WEBAPP__COREAPP_PORT".into(), core_port.to_string());
    vars.insert("ONPREM__WEBAPP__LISTEN".into(), format!("127.0.0.1:{port}"));
    let mut service = Service::start("webapp", &[], &vars);
    service.wait_for_port(port);
    Running {
        service,
        port,
        client: Client::new(port),
    }
}
