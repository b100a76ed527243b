//! Applies the `log_level` and `verbose_logging` application settings (spec onprem-rest §8.3) to
//! the running process as soon as they change, without a restart.

use tokio::sync::watch;
use wa_api::settings::ApplicationSettings;

/// Follows the settings until the handle is dropped. Stored settings that differ from the
/// defaults apply at start; until then the configured `log.level` (or `RUST_LOG`-style directive)
/// stays in force, so an operator's start-up filter is not overridden by untouched defaults.
pub async fn follow(mut settings: watch::Receiver<ApplicationSettings>) {
    let defaults = ApplicationSettings::default();
    let mut applied = {
        let current = settings.borrow_and_update().clone();
        if wanted(&defaults) == wanted(&current) {
            // Counted as applied, so unrelated settings changes leave the start-up filter alone.
            Some(wanted(&current))
        } else {
            apply(&current)
        }
    };
    while settings.changed().await.is_ok() {
        let current = settings.borrow_and_update().clone();
        let directive = wanted(&current);
        if applied.as_deref() != Some(directive.as_str()) {
            applied = apply(&current);
        }
    }
}

fn wanted(settings: &ApplicationSettings) -> String {
    wa_common::telemetry::level_for_settings(&settings.log_level, settings.verbose_logging)
}

fn apply(settings: &ApplicationSettings) -> Option<String> {
    let directive = wanted(settings);
    match wa_common::telemetry::set_level(&directive) {
        Ok(()) => {
            tracing::info!("log level is now '{directive}' (application settings)");
            tracing::debug!("debug logging enabled");
            Some(directive)
        }
        Err(e) => {
            tracing::warn!("cannot apply log level '{directive}': {e}");
            None
        }
    }
}
