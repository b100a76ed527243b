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

fn exit_with(err: ConfigError) -> ! {
    eprintln!("configuration error: {err}");
    std::process::exit(2);
}
