//! Configuration: defaults, then an optional TOML file, then the environment, validated at start.
//!
//! Two environment forms are read. The On-Prem names (`WA_DB_ENGINE`, `WA_DB_HOSTNAME`,
//! `WA_API_KEY`, `WACORE_HOSTNAME`, ...) work as-is so existing `db.env` files and compose files
//! carry over; every setting is also reachable as `ONPREM__<SECTION>__<KEY>`, which wins over the
//! On-Prem name when both are set.

pub use db_tls::DbTlsSettings;
pub use proxies::TrustedProxies;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Load(#[from] config::ConfigError),
    #[error("invalid settings:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Build version reported in `meta.version` (`WA_VERSION`).
    pub version: String,
    /// Where the embedded SQLite database lives when no server database is configured.
    pub data_dir: PathBuf,
    /// Shared media volume.
    pub media_dir: PathBuf,
    pub log: LogSettings,
    pub database: DatabaseSettings,
    pub webapp: WebappSettings,
    pub coreapp: CoreappSettings,
    /// High Availability and Multiconnect (`WA_MASTER_NODE`, `WA_APP_MULTICONNECT`, ...).
    pub cluster: crate::cluster::ClusterSettings,
    pub secrets: secrets::SecretsSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    /// A tracing filter: `info`, `debug`, `webapp=debug,info`, ...
    pub level: String,
    /// `text` or `json`.
    pub format: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// A full URL (`mysql://`, `postgres://`, `sqlite://`); overrides the On-Prem fields below.
    pub url: Option<String>,
    /// `MYSQL` or `PGSQL` (`WA_DB_ENGINE`); unset means the embedded SQLite under `data_dir`.
    pub engine: Option<String>,
    pub hostname: Option<String>,
    pub port: Option<u16>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Prefix of the database name (`WA_DB_NAME_PREFIX`), so several installs can share a server.
    pub name_prefix: String,
    pub name: String,
    /// Idle connections are closed after this many milliseconds (`WA_DB_CONNECTION_IDLE_TIMEOUT`).
    pub connection_idle_timeout_ms: Option<u64>,
    pub pool_size: u32,
    /// How long to keep retrying while the database comes up.
    pub startup_timeout_secs: u64,
    /// TLS to the server (`WA_DB_SSL_*`, see [`db_tls`]).
    pub tls: DbTlsSettings,
    /// Apply the pending migrations and exit instead of serving (`WA_DB_UPGRADE`, 0 or 1): the
    /// coreapp image as Meta's one-shot `dbupgrade` container.
    pub upgrade_only: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WebappSettings {
    /// HTTPS listen address; the containers listen on 443.
    pub listen: String,
    /// Name in the generated server certificate (`WA_WEB_SERVERNAME`).
    pub server_name: String,
    /// Monitoring API key, 12–128 characters (`WA_API_KEY`).
    pub api_key: Option<String>,
    /// JWT signing key shared by all webapps (`WA_WEB_JWT_CRYPTO_KEY`); generated and kept in the
    /// database when unset.
    pub jwt_key: Option<String>,
    /// Where the coreapp's internal RPC listens (`WACORE_HOSTNAME`).
    pub coreapp_host: String,
    pub coreapp_port: u16,
    pub coreapp_timeout_secs: u64,
    /// Largest accepted request body for JSON endpoints.
    pub max_body_bytes: usize,
    pub token_lifetime_secs: i64,
    /// bcrypt cost for stored passwords (10 is what the original's PHP `password_hash` used).
    pub bcrypt_cost: u32,
    /// Failed logins allowed per client IP within the window before 429/1015.
    pub failed_logins_max: u32,
    pub failed_logins_window_secs: u64,
    /// User create/update calls allowed per client IP within the window before 429/1015.
    pub user_changes_max: u32,
    pub user_changes_window_secs: u64,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Every connection starts with a PROXY protocol v2 header from a load balancer, whose
    /// client address the per-IP limits and the access log use (`WA_WEB_PROXY_PROTOCOL`, 0 or 1).
    pub proxy_protocol: bool,
    /// Load balancers whose `X-Forwarded-For` names the client (`WA_WEB_TRUSTED_PROXIES`,
    /// addresses and CIDR ranges separated by commas); empty ignores the header.
    pub trusted_proxies: String,
    /// Request rate of `POST /v1/messages` per second before 429/1015, with bursts up to
    /// `messages_rate_burst` (spec §10); 0 turns the limit off.
    pub messages_rate_per_sec: u32,
    pub messages_rate_burst: u32,
    /// The same for every other endpoint, each counted on its own.
    pub endpoint_rate_per_sec: u32,
    pub endpoint_rate_burst: u32,
    /// The control API of a simulated network (`http://host:5280`), whose webhook inbox the
    /// console shows; `wa-dev` sets it to its bundled simulator.
    pub network_control_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CoreappSettings {
    /// Listen address of the internal RPC.
    pub listen: String,
    /// The network (wanet) the coreapp connects to.
    pub network_address: String,
    /// PEM file of the CA that signed the network's certificate; unset skips verification,
    /// which is only sensible for the bundled simulator.
    pub network_ca_file: Option<PathBuf>,
    /// Longest wait for the offline backlog at start-up before serving anyway (On-Prem: 6 minutes).
    pub offline_drain_timeout_secs: u64,
    /// Ceiling of the reconnect back-off.
    pub reconnect_max_backoff_secs: u64,
    /// Timeout of one request to the network.
    pub network_request_timeout_secs: u64,
    /// Outbound messages in flight to the network at once.
    pub max_inflight_sends: usize,
    /// Sends are refused with 503/1016 while this many outbound messages wait for the network
    /// (spec §10, "concurrent rate limiting"); 0 turns the check off.
    pub max_pending_messages: u64,
    /// ... or while this many webhooks wait in the outbox (the original's queue held 100,000).
    pub max_callback_queue_size: u64,
    /// Shortest `ttl` of a template message; shorter requests are raised to it (On-Prem: 1 day).
    /// Tests lower it to see expiry happen.
    pub min_message_ttl_secs: i64,
    /// Outbound messages (other than templates) still waiting for the network after this long
    /// fail with 408 (On-Prem: 1 day).
    pub max_pending_message_age_secs: i64,
    /// The known message templates are fetched again when older than this, and on a miss.
    pub template_refresh_secs: u64,
    /// How often the garbage collectors `garbagecollector_enable` switches on run (the same
    /// collections as `PUT /v1/services/{message,media}/gc`). Tests shorten it.
    pub gc_interval_secs: u64,
    /// Seconds between the coreapp's `stats` log lines (gateway, queues, failures) that
    /// log-based monitoring alarms on; 0 turns them off.
    pub stats_log_interval_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            version: wa_version_default().into(),
            data_dir: PathBuf::from("/usr/local/waent/data"),
            media_dir: PathBuf::from("/usr/local/wamedia"),
            log: LogSettings::default(),
            database: DatabaseSettings::default(),
            webapp: WebappSettings::default(),
            coreapp: CoreappSettings::default(),
            cluster: Default::default(),
            secrets: Default::default(),
        }
    }
}

fn wa_version_default() -> &'static str {
    "v2.57.2"
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            level: "info".into(),
            format: "text".into(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: None,
            engine: None,
            hostname: None,
            port: None,
            username: None,
            password: None,
            name_prefix: String::new(),
            name: "waent".into(),
            connection_idle_timeout_ms: None,
            pool_size: 10,
            startup_timeout_secs: 120,
            tls: DbTlsSettings::default(),
            upgrade_only: false,
        }
    }
}

impl Default for WebappSettings {
    fn default() -> Self {
        WebappSettings {
            listen: "0.0.0.0:443".into(),
            server_name: "localhost".into(),
            api_key: None,
            jwt_key: None,
            coreapp_host: "127.0.0.1".into(),
            coreapp_port: 6250,
            coreapp_timeout_secs: 45,
            max_body_bytes: 1024 * 1024,
            token_lifetime_secs: 7 * 24 * 3600,
            bcrypt_cost: 10,
            failed_logins_max: 10,
            failed_logins_window_secs: 60,
            user_changes_max: 30,
            user_changes_window_secs: 60,
            workers: 0,
            proxy_protocol: false,
            trusted_proxies: String::new(),
            messages_rate_per_sec: 50,
            messages_rate_burst: 150,
            endpoint_rate_per_sec: 20,
            endpoint_rate_burst: 60,
            network_control_url: None,
        }
    }
}

impl Default for CoreappSettings {
    fn default() -> Self {
        CoreappSettings {
            listen: "0.0.0.0:6250".into(),
            network_address: "127.0.0.1:5222".into(),
            network_ca_file: None,
            offline_drain_timeout_secs: 360,
            reconnect_max_backoff_secs: 30,
            network_request_timeout_secs: 30,
            max_inflight_sends: 64,
            max_pending_messages: 100_000,
            max_callback_queue_size: 100_000,
            min_message_ttl_secs: 86_400,
            max_pending_message_age_secs: 86_400,
            template_refresh_secs: 300,
            gc_interval_secs: 3_600,
            stats_log_interval_secs: 60,
        }
    }
}

/// The On-Prem environment variables and the setting each one fills.
pub const ONPREM_ENV: &[(&str, &str)] = &[
    ("WA_VERSION", "version"),
    ("WA_DB_ENGINE", "database.engine"),
    ("WA_DB_HOSTNAME", "database.hostname"),
    ("WA_DB_PORT", "database.port"),
    ("WA_DB_USERNAME", "database.username"),
    ("WA_DB_PASSWORD", "database.password"),
    ("WA_DB_NAME_PREFIX", "database.name_prefix"),
    (
        "WA_DB_CONNECTION_IDLE_TIMEOUT",
        "database.connection_idle_timeout_ms",
    ),
    ("WA_DB_SSL_CA", "database.tls.ca"),
    ("WA_DB_SSL_CERT", "database.tls.cert"),
    ("WA_DB_SSL_KEY", "database.tls.key"),
    ("WA_DB_SSL_VERIFY", "database.tls.verify"),
    ("WA_DB_UPGRADE", "database.upgrade_only"),
    ("WA_SECRETS_KEY", "secrets.key"),
    ("WA_SECRETS_KEY_FILE", "secrets.key_file"),
    ("WA_SECRETS_PREVIOUS_KEY", "secrets.previous_key"),
    ("WA_SECRETS_PREVIOUS_KEY_FILE", "secrets.previous_key_file"),
    ("WA_API_KEY", "webapp.api_key"),
    ("WA_WEB_JWT_CRYPTO_KEY", "webapp.jwt_key"),
    ("WA_WEB_SERVERNAME", "webapp.server_name"),
    ("WA_WEB_PROXY_PROTOCOL", "webapp.proxy_protocol"),
    ("WA_WEB_TRUSTED_PROXIES", "webapp.trusted_proxies"),
    ("WACORE_HOSTNAME", "webapp.coreapp_host"),
    ("WA_MASTER_NODE", "cluster.master_node"),
    ("WA_APP_MULTICONNECT", "cluster.multiconnect"),
    ("COREAPP_HOSTNAME", "cluster.hostname"),
    ("COREAPP_EXTERNAL_PORTS", "cluster.external_ports"),
];

/// A `config` source that reads the On-Prem variable names from a snapshot of the environment.
#[derive(Debug, Clone)]
struct OnPremEnv {
    vars: HashMap<String, String>,
}

impl config::Source for OnPremEnv {
    fn clone_into_box(&self) -> Box<dyn config::Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<config::Map<String, config::Value>, config::ConfigError> {
        let origin = "environment (On-Prem names)".to_string();
        Ok(ONPREM_ENV
            .iter()
            .filter_map(|(var, key)| {
                let value = self.vars.get(*var)?;
                Some((
                    key.to_string(),
                    config::Value::new(Some(&origin), value.as_str()),
                ))
            })
            .collect())
    }
}

impl Settings {
    /// Loads from the process environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        Self::load_from(file, std::env::vars().collect())
    }

    /// Loads from an explicit environment, so tests need not touch the process's.
    pub fn load_from(
        file: Option<&Path>,
        env: HashMap<String, String>,
    ) -> Result<Settings, ConfigError> {
        let mut builder =
            config::Config::builder().add_source(config::Config::try_from(&Settings::default())?);
        if let Some(path) = file {
            builder = builder.add_source(config::File::from(path).required(true));
        }
        let prefixed = config::Environment::with_prefix("ONPREM")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .source(Some(env.clone().into_iter().collect()));
        let settings: Settings = builder
            .add_source(OnPremEnv { vars: env })
            .add_source(prefixed)
            .build()?
            .try_deserialize()?;
        Ok(settings)
    }

    /// Every problem at once, so an operator fixes them in one go.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if self.version.trim_start_matches('v').is_empty() {
            problems.push("version must not be empty".to_string());
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            problems.push(format!(
                "log.format must be text or json, not '{}'",
                self.log.format
            ));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            problems.push(format!(
                "log.level '{}' is not a valid filter: {e}",
                self.log.level
            ));
        }
        self.database.check(&mut problems);
        self.webapp.check(&mut problems);
        self.coreapp.check(&mut problems);
        self.secrets.check(&mut problems);
        match self.database_url() {
            Ok(url) => self
                .cluster
                .check(url.starts_with("sqlite:"), &mut problems),
            Err(e) => problems.push(e),
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// The database URL: the explicit one, else built from the On-Prem fields, else the
    /// embedded SQLite file under `data_dir`.
    pub fn database_url(&self) -> Result<String, String> {
        let db = &self.database;
        if let Some(url) = &db.url {
            return Ok(url.clone());
        }
        let scheme = match db.engine_kind()? {
            None => {
                return Ok(format!(
                    "sqlite://{}",
                    self.data_dir.join("waent.db").display()
                ));
            }
            Some(scheme) => scheme,
        };
        let missing =
            |name: &str| format!("database.{name} is required when database.engine is set");
        let host = db.hostname.as_deref().ok_or_else(|| missing("hostname"))?;
        let user = db.username.as_deref().ok_or_else(|| missing("username"))?;
        let password = db.password.as_deref().ok_or_else(|| missing("password"))?;
        let default_port = if scheme == "mysql" { 3306 } else { 5432 };
        let mut url = url::Url::parse(&format!("{scheme}://placeholder/"))
            .map_err(|e| format!("cannot build the database URL: {e}"))?;
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        url.set_host(Some(&host))
            .map_err(|e| format!("database.hostname '{host}': {e}"))?;
        url.set_port(Some(db.port.unwrap_or(default_port)))
            .and_then(|_| url.set_username(user))
            .and_then(|_| url.set_password(Some(password)))
            .map_err(|_| "cannot build the database URL from the given parts".to_string())?;
        url.set_path(&format!("{}{}", db.name_prefix, db.name));
        db.tls.apply(scheme, &mut url);
        Ok(url.to_string())
    }

    /// The effective settings as TOML with secrets replaced, for `--print-config`.
    pub fn redacted_toml(&self) -> String {
        let mut copy = self.clone();
        let redact = |v: &mut Option<String>| {
            if v.is_some() {
                *v = Some("<redacted>".into());
            }
        };
        redact(&mut copy.database.password);
        redact(&mut copy.webapp.api_key);
        redact(&mut copy.webapp.jwt_key);
        copy.secrets.redact();
        if let Some(Ok(mut url)) = copy.database.url.as_deref().map(url::Url::parse) {
            if url.password().is_some() {
                let _ = url.set_password(Some("<redacted>"));
            }
            copy.database.url = Some(url.to_string());
        }
        toml::to_string_pretty(&copy).unwrap_or_else(|e| format!("# cannot print settings: {e}"))
    }
}

impl DatabaseSettings {
    /// `WA_DB_ENGINE` is case-insensitive; `MYSQL` and `PGSQL` are the On-Prem spellings.
    fn engine_kind(&self) -> Result<Option<&'static str>, String> {
        let Some(engine) = self.engine.as_deref().filter(|e| !e.is_empty()) else {
            return Ok(None);
        };
        match engine.to_ascii_uppercase().as_str() {
            "MYSQL" | "MARIADB" => Ok(Some("mysql")),
            "PGSQL" | "POSTGRES" | "POSTGRESQL" => Ok(Some("postgres")),
            "SQLITE" => Ok(None),
            other => Err(format!(
                "database.engine (WA_DB_ENGINE) must be MYSQL or PGSQL, not '{other}'"
            )),
        }
    }

    fn check(&self, problems: &mut Vec<String>) {
        if let Some(url) = &self.url {
            let known = [
                "mysql://",
                "mariadb://",
                "postgres://",
                "postgresql://",
                "sqlite:",
            ];
            if !known.iter().any(|scheme| url.starts_with(scheme)) {
                problems.push(
                    "database.url must start with mysql://, postgres:// or sqlite://".to_string(),
                );
            }
        }
        if self.pool_size == 0 {
            problems.push("database.pool_size must be at least 1".into());
        }
        let scheme = if self.url.is_some() {
            None
        } else {
            self.engine_kind().ok().flatten()
        };
        self.tls.check(scheme, problems);
        let name = format!("{}{}", self.name_prefix, self.name);
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            problems.push(format!(
                "database name '{name}' (name_prefix + name) may only contain letters, digits and _"
            ));
        }
    }
}

impl CoreappSettings {
    fn check(&self, problems: &mut Vec<String>) {
        if self.listen.parse::<SocketAddr>().is_err() {
            problems.push(format!(
                "coreapp.listen '{}' is not an address:port",
                self.listen
            ));
        }
        if !self.network_address.contains(':') {
            problems.push(format!(
                "coreapp.network_address '{}' must be host:port",
                self.network_address
            ));
        }
        if self.reconnect_max_backoff_secs == 0 || self.network_request_timeout_secs == 0 {
            problems.push("coreapp back-off and request timeouts must be positive".into());
        }
        if self.max_inflight_sends == 0 {
            problems.push("coreapp.max_inflight_sends must be at least 1".into());
        }
    }
}

impl WebappSettings {
    fn check(&self, problems: &mut Vec<String>) {
        if self.listen.parse::<SocketAddr>().is_err() {
            problems.push(format!(
                "webapp.listen '{}' is not an address:port",
                self.listen
            ));
        }
        if let Some(key) = &self.api_key {
            if !(12..=128).contains(&key.chars().count()) {
                problems.push("webapp.api_key (WA_API_KEY) must be 12 to 128 characters".into());
            }
        }
        if let Some(key) = &self.jwt_key {
            if key.len() < 32 {
                problems.push(
                    "webapp.jwt_key (WA_WEB_JWT_CRYPTO_KEY) must be at least 32 characters".into(),
                );
            }
        }
        if let Err(e) = TrustedProxies::parse(&self.trusted_proxies) {
            problems.push(format!(
                "webapp.trusted_proxies (WA_WEB_TRUSTED_PROXIES): {e}"
            ));
        }
        if !(4..=31).contains(&self.bcrypt_cost) {
            problems.push("webapp.bcrypt_cost must be between 4 and 31".into());
        }
        if self.token_lifetime_secs <= 0 {
            problems.push("webapp.token_lifetime_secs must be positive".into());
        }
        // The database holds what a body carries in 16 MB MEDIUMTEXT columns (MySQL); half that
        // leaves room for escaping and the envelope around it.
        if !(1024..=MAX_BODY_BYTES_LIMIT).contains(&self.max_body_bytes) {
            problems.push(format!(
                "webapp.max_body_bytes must be between 1024 and {MAX_BODY_BYTES_LIMIT}"
            ));
        }
        if self.failed_logins_max == 0 || self.user_changes_max == 0 {
            problems.push(
                "webapp.failed_logins_max and webapp.user_changes_max must be at least 1".into(),
            );
        }
        for (rate, burst, name) in [
            (
                self.messages_rate_per_sec,
                self.messages_rate_burst,
                "messages",
            ),
            (
                self.endpoint_rate_per_sec,
                self.endpoint_rate_burst,
                "endpoint",
            ),
        ] {
            if rate > 0 && burst == 0 {
                problems.push(format!(
                    "webapp.{name}_rate_burst must be at least 1 while webapp.{name}_rate_per_sec is set"
                ));
            }
        }
    }

    /// Base URL of the coreapp's internal RPC.
    pub fn coreapp_base_url(&self) -> String {
        let host = &self.coreapp_host;
        if host.contains(':') && !host.starts_with('[') {
            format!("http://[{host}]:{}", self.coreapp_port)
        } else {
            format!("http://{host}:{}", self.coreapp_port)
        }
    }
}

/// The largest `webapp.max_body_bytes` accepted (8 MiB).
pub const MAX_BODY_BYTES_LIMIT: usize = 8 * 1024 * 1024;

mod db_tls;
mod proxies;
pub mod secrets;
#[cfg(test)]
mod tests;
