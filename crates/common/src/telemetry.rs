//! Logging set-up: human-readable text by default, one JSON object per line on request. The level
//! filter sits behind a reload handle so the `log_level` / `verbose_logging` application settings
//! take effect without a restart ([`set_level`]).

use crate::config::LogSettings;
use std::sync::OnceLock;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Registry};

static FILTER: OnceLock<reload::Handle<EnvFilter, Registry>> = OnceLock::new();

/// Installs the global subscriber. Safe to call more than once (later calls are no-ops), which the
/// one-process launcher relies on.
pub fn init(log: &LogSettings) {
    let filter = EnvFilter::try_new(&log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let (filter, handle) = reload::Layer::new(filter);
    // Colours only on a terminal: log files and `docker logs` should stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let json = log.format == "json";
    let text_layer = (!json).then(|| {
        tracing_subscriber::fmt::layer()
            .with_target(true)
            .with_ansi(ansi)
    });
    let json_layer = json.then(|| {
        tracing_subscriber::fmt::layer()
            .with_target(true)
            .json()
            .flatten_event(true)
    });
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(text_layer)
        .with(json_layer)
        .try_init();
    if installed.is_ok() {
        let _ = FILTER.set(handle);
    }
}

/// The `[log]` settings from the environment (`ONPREM__LOG__LEVEL`, `ONPREM__LOG__FORMAT`) and
/// the file `ONPREM_CONFIG` names, for a binary that reads no other setting (`wanet`), so every
/// process of a deployment logs as configured.
pub fn log_settings_from_env() -> Result<LogSettings, crate::config::ConfigError> {
    let file = std::env::var_os("ONPREM_CONFIG").map(std::path::PathBuf::from);
    crate::config::Settings::load(file.as_deref()).map(|settings| settings.log)
}

/// What `--help` of such a binary says about it.
pub const LOG_ENV_HELP: &str = "\
Logging (as the webapp and the coreapp):
  ONPREM__LOG__LEVEL   log filter: error, warn, info (default), debug, wanet=debug,info, ...
  ONPREM__LOG__FORMAT  text (default) or json (one object per line)
  ONPREM_CONFIG        a TOML file whose [log] section is read the same way";

/// Replaces the level filter of the running process (`debug`, `info`, `warn`, `error`, or any
/// `EnvFilter` directive). A process that did not call [`init`] (tests) has nothing to change.
pub fn set_level(directive: &str) -> Result<(), String> {
    let filter = EnvFilter::try_new(directive).map_err(|e| e.to_string())?;
    match FILTER.get() {
        Some(handle) => handle.reload(filter).map_err(|e| e.to_string()),
        None => Ok(()),
    }
}

/// The filter directive for the application settings `log_level` and `verbose_logging` (spec
/// onprem-rest §8.3): verbose logging means debug whatever the level; `warning` is `warn`.
pub fn level_for_settings(log_level: &str, verbose_logging: bool) -> String {
    if verbose_logging {
        return "debug".into();
    }
    match log_level.to_ascii_lowercase().as_str() {
        "warning" => "warn".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_map_to_directives() {
        assert_eq!(level_for_settings("info", true), "debug");
        assert_eq!(level_for_settings("WARNING", false), "warn");
        assert_eq!(level_for_settings("error", false), "error");
        assert!(set_level("not a level ===").is_err());
    }
}
