//! How to reach the database and how big the pool is.

use std::{fmt, time::Duration};

use crate::{Sealer, StoreError};

#[derive(Clone)]
pub struct StoreConfig {
    /// `mysql://`, `mariadb://`, `postgres://`, `postgresql://` or `sqlite://` URL.
    pub url: String,
    /// Most connections open at once; also the number of queries allowed in flight.
    pub pool_size: u32,
    /// How long a query waits for a free pooled connection (or a new one) before `Unavailable`.
    pub connection_timeout: Duration,
    /// Idle pooled connections are closed after this long (On-Prem `WA_DB_CONNECTION_IDLE_TIMEOUT`);
    /// `None` keeps them open.
    pub idle_timeout: Option<Duration>,
    /// How long `Store::connect` keeps retrying an unreachable database before giving up.
    pub startup_timeout: Duration,
    /// Seals the secret values the store keeps (the JWT signing key, TLS private keys, the
    /// two-step PIN, media provider passwords, the network credentials).
    pub sealer: Sealer,
    /// Keep one idle connection open, replacing it in the background whenever it is taken
    /// (services). A one-shot run turns it off: a replacement still being opened when the
    /// process exits races with the C library's exit handlers and can crash the exit.
    pub keep_warm: bool,
}

impl StoreConfig {
    pub fn new(url: impl Into<String>, sealer: Sealer) -> Self {
        StoreConfig {
            sealer,
            url: url.into(),
            pool_size: 10,
            connection_timeout: Duration::from_secs(5),
            idle_timeout: None,
            startup_timeout: Duration::from_secs(60),
            keep_warm: true,
        }
    }

    /// Rejects values that r2d2 would panic on.
    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        if self.pool_size == 0 {
            return Err(StoreError::Config(
                "pool_size must be at least 1".to_string(),
            ));
        }
        if self.connection_timeout.is_zero() {
            return Err(StoreError::Config(
                "connection_timeout must be positive".to_string(),
            ));
        }
        if self.idle_timeout.is_some_and(|timeout| timeout.is_zero()) {
            return Err(StoreError::Config(
                "idle_timeout must be positive".to_string(),
            ));
        }
        Ok(())
    }
}

/// The URL may carry a password, so Debug shows only its scheme and the sizes.
impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.url.split_once(':').map_or("?", |(scheme, _)| scheme);
        f.debug_struct("StoreConfig")
            .field("url", &format_args!("{scheme}:<redacted>"))
            .field("pool_size", &self.pool_size)
            .field("connection_timeout", &self.connection_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("startup_timeout", &self.startup_timeout)
            .field("sealer", &self.sealer)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretsKey;

    fn store_config(url: &str) -> StoreConfig {
        StoreConfig::new(url, Sealer::new(SecretsKey::generate(), None))
    }

    #[test]
    fn defaults() {
        let config = store_config("sqlite:x.db");
        assert_eq!(config.pool_size, 10);
        assert_eq!(config.connection_timeout, Duration::from_secs(5));
        assert_eq!(config.idle_timeout, None);
        assert_eq!(config.startup_timeout, Duration::from_secs(60));
        config.validate().unwrap();
    }

    #[test]
    fn values_r2d2_panics_on_are_rejected() {
        let mut config = store_config("sqlite:x.db");
        config.pool_size = 0;
        assert!(matches!(config.validate(), Err(StoreError::Config(_))));
        let mut config = store_config("sqlite:x.db");
        config.idle_timeout = Some(Duration::ZERO);
        assert!(matches!(config.validate(), Err(StoreError::Config(_))));
        let mut config = store_config("sqlite:x.db");
        config.connection_timeout = Duration::ZERO;
        assert!(matches!(config.validate(), Err(StoreError::Config(_))));
    }

    #[test]
    fn debug_hides_the_password() {
        let config = store_config("mysql://root:hunter2@db/wa");
        let text = format!("{config:?}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}
