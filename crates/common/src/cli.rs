//! Command-line flags every binary accepts.

use crate::config::{ConfigError, Settings};
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Optional TOML configuration file, applied over the defaults and under the environment.
    #[arg(long, env = "ONPREM_CONFIG")]
    pub config: Option<PathBuf>,

    /// Print the effective configuration (secrets redacted) and exit.
    #[arg(long)]
    pub print_config: bool,
}

impl CommonArgs {
    /// Loads and validates the settings. With `--print-config` prints them and exits; on bad values
    /// prints every problem and exits non-zero, so a misconfigured container stops at once.
    pub fn load_or_exit(&self) -> Settings {
        self.load_with_or_exit(|_| {})
    }

    /// Like [`load_or_exit`](Self::load_or_exit), with a hook that adjusts the settings (e.g. the
    /// one-process launcher's own defaults) before validation and printing.
    pub fn load_with_or_exit(&self, adjust: impl FnOnce(&mut Settings)) -> Settings {
        let settings = Settings::load(self.config.as_deref()).and_then(|mut s| {
            adjust(&mut s);
            s.validate()?;
            Ok(s)
        });
        match settings {
            Ok(settings) if self.print_config => {
                println!("{}", settings.redacted_toml());
                std::process::exit(0);
            }
            Ok(settings) => settings,
            Err(err) => exit_with(err),
        }
    }
}

/// The environment a binary reads, for the end of its `--help`: the log settings, the general
/// `ONPREM__<SECTION>__<KEY>` form and every On-Prem name with the setting it fills.
pub fn env_help() -> String {
    let mut help = String::from(
        "Environment (docs/configuration.md has every setting):\n  \
         ONPREM_CONFIG                  a TOML file of settings (like --config)\n  \
         ONPREM__<SECTION>__<KEY>       any setting, e.g. ONPREM__WEBAPP__LISTEN=0.0.0.0:443\n  \
         ONPREM__LOG__LEVEL             log filter: error, warn, info (default), debug, ...\n  \
         ONPREM__LOG__FORMAT            text (default) or json\n",
    );
    for (var, setting) in crate::config::ONPREM_ENV {
        help.push_str(&format!("  {var:<30} {setting}\n"));
    }
    help.push('\n');
    help.push_str(crate::cluster::ENV_HELP);
    help
}

fn exit_with(err: ConfigError) -> ! {
    eprintln!("configuration error: {err}");
    std::process::exit(2);
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_help_names_every_environment_variable() {
        let help = super::env_help();
        for (var, _) in crate::config::ONPREM_ENV {
            assert!(help.contains(var), "{var} missing from:\n{help}");
        }
        for var in ["ONPREM__LOG__LEVEL", "ONPREM_CONFIG", "WA_MASTER_NODE"] {
            assert!(help.contains(var), "{var} missing from:\n{help}");
        }
    }
}
