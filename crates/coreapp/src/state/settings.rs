//! Application settings (spec onprem-rest §8.1–8.4): the live copy every task reads, persisted in
//! the database under [`APPLICATION_SETTINGS`]. The handlers are in `api::settings`.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::{watch, Mutex};
use wa_api::keys::APPLICATION_SETTINGS;
use wa_api::settings::ApplicationSettings;
use wa_api::{ApiError, ErrorCode};
use wa_store::{Store, StoreError};

/// The current application settings. Cheap to clone; all clones share one value.
#[derive(Clone)]
pub struct SettingsHandle {
    inner: Arc<Inner>,
}

struct Inner {
    /// Holds the current value; receivers (the webhook dispatcher) see every change.
    sender: watch::Sender<ApplicationSettings>,
    /// Serialises changes, so two PATCHes cannot both start from the same old value and lose one.
    writes: Mutex<()>,
}

impl SettingsHandle {
    /// Reads the stored settings (defaults when none were ever saved).
    pub async fn load(store: &Store) -> Result<SettingsHandle, StoreError> {
        let settings = match store.get_config_value(APPLICATION_SETTINGS).await? {
            Some(text) => parse_stored(&text),
            None => ApplicationSettings::default(),
        };
        Ok(SettingsHandle::new(settings))
    }

    /// A handle on given settings, not read from anywhere (tests, tools).
    pub fn new(settings: ApplicationSettings) -> SettingsHandle {
        let (sender, _receiver) = watch::channel(settings);
        SettingsHandle {
            inner: Arc::new(Inner {
                sender,
                writes: Mutex::new(()),
            }),
        }
    }

    pub fn current(&self) -> ApplicationSettings {
        self.inner.sender.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<ApplicationSettings> {
        self.inner.sender.subscribe()
    }

    /// Validates and merges `patch` (PATCH semantics), persists the result, then publishes it.
    /// Nothing changes when validation or the database write fails.
    pub async fn patch(&self, store: &Store, patch: &Value) -> Result<(), ApiError> {
        let _write = self.inner.writes.lock().await;
        let mut next = self.current();
        next.apply_patch(patch)?;
        store
            .put_config_value(APPLICATION_SETTINGS, stored_json(&next))
            .await
            .map_err(|error| database_error("save", &error))?;
        self.inner.sender.send_replace(next);
        Ok(())
    }

    /// Publishes what the database holds now (after a restore wrote it).
    pub async fn reload(&self, store: &Store) -> Result<(), StoreError> {
        let _write = self.inner.writes.lock().await;
        let fresh = SettingsHandle::load(store).await?;
        self.inner.sender.send_replace(fresh.current());
        Ok(())
    }

    /// Follows what another node of a cluster wrote: publishes the stored settings only when
    /// they differ from the current ones, so subscribers wake on real changes only.
    pub async fn refresh(&self, store: &Store) -> Result<(), StoreError> {
        let _write = self.inner.writes.lock().await;
        let fresh = SettingsHandle::load(store).await?.current();
        self.inner.sender.send_if_modified(|current| {
            let changed = *current != fresh;
            *current = fresh;
            changed
        });
        Ok(())
    }

    /// Restores every default (DELETE). The stored row is removed, so the defaults of the running
    /// version apply from now on, also after an upgrade.
    pub async fn reset(&self, store: &Store) -> Result<(), ApiError> {
        let _write = self.inner.writes.lock().await;
        store
            .delete_config_value(APPLICATION_SETTINGS)
            .await
            .map_err(|error| database_error("reset", &error))?;
        self.inner
            .sender
            .send_replace(ApplicationSettings::default());
        Ok(())
    }
}

/// Registers the three methods of `/v1/settings/application`. Expects `web::Data<SettingsHandle>`
/// and `web::Data<Store>` in the app data.
fn stored_json(settings: &ApplicationSettings) -> String {
    let mut json = settings.to_json();
    if let Some(fields) = json.as_object_mut() {
        fields.remove("wa_id");
    }
    json.to_string()
}

/// A stored field that no longer validates keeps its default; the others survive. Loud, because
/// it means a configuration the operator set is not in effect.
fn parse_stored(text: &str) -> ApplicationSettings {
    let value = match serde_json::from_str::<Value>(text) {
        Ok(value) => value,
        Err(error) => {
            tracing::error!(
                "stored application settings are not JSON ({error}); using the defaults"
            );
            return ApplicationSettings::default();
        }
    };
    let (settings, skipped) = ApplicationSettings::from_stored(&value);
    for error in skipped {
        tracing::error!("stored application setting ignored, default used instead: {error}");
    }
    settings
}

fn database_error(action: &str, error: &StoreError) -> ApiError {
    tracing::error!("settings: cannot {action} the application settings: {error}");
    ApiError::new(
        ErrorCode::DatabaseError,
        format!("Unable to {action} the application settings"),
    )
}
