//! Opening the store from the settings, in one place for every service.

use crate::Settings;
use std::time::Duration;
use wa_store::{Store, StoreConfig, StoreError};

pub async fn open(settings: &Settings) -> Result<Store, StoreError> {
    Store::connect(&store_config(settings)?).await
}

/// [`open`] for a one-shot run (the database upgrade): no connection kept warm in the
/// background, so nothing is being opened when the process exits.
pub async fn open_once(settings: &Settings) -> Result<Store, StoreError> {
    let mut config = store_config(settings)?;
    config.keep_warm = false;
    Store::connect(&config).await
}

fn store_config(settings: &Settings) -> Result<StoreConfig, StoreError> {
    let url = settings.database_url().map_err(StoreError::Config)?;
    let db = &settings.database;
    let sealer = settings.secrets.sealer().map_err(StoreError::Config)?;
    let mut config = StoreConfig::new(url, sealer);
    config.pool_size = db.pool_size;
    config.idle_timeout = db.connection_idle_timeout_ms.map(Duration::from_millis);
    config.startup_timeout = Duration::from_secs(db.startup_timeout_secs);
    Ok(config)
}
