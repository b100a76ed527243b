//! What every handler can reach: the store, the settings, the token keys and the limiters.

use crate::coreapp::CoreappClient;
use crate::limiter::WindowLimiter;
use jsonwebtoken::{DecodingKey, EncodingKey};
use std::sync::Arc;
use std::time::Duration;
use wa_common::Settings;
use wa_store::Store;

pub struct AppState {
    pub store: Store,
    pub settings: Settings,
    pub jwt: JwtKeys,
    pub failed_logins: WindowLimiter,
    pub user_changes: WindowLimiter,
    pub coreapp: CoreappClient,
}

pub struct JwtKeys {
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
}

impl JwtKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn new(store: Store, settings: Settings, jwt: JwtKeys) -> Result<Self, reqwest::Error> {
        let web = &settings.webapp;
        Ok(AppState {
            failed_logins: WindowLimiter::new(
                web.failed_logins_max,
                Duration::from_secs(web.failed_logins_window_secs),
            ),
            user_changes: WindowLimiter::new(
                web.user_changes_max,
                Duration::from_secs(web.user_changes_window_secs),
            ),
            coreapp: CoreappClient::new(web)?,
            store,
            settings,
            jwt,
        })
    }
}
