//! Application settings (spec onprem-rest §8.1–8.4): the live copy every task reads, persisted in
//! the database under [`APPLICATION_SETTINGS_KEY`], and the handlers of
//! `GET`/`PATCH`/`DELETE /v1/settings/application` on the internal listener. The webapp relays
//! those calls after checking the token and the admin role; we answer with the complete envelope.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use tokio::sync::{watch, Mutex};
use wa_api::envelope::{self, Meta};
use wa_api::settings::ApplicationSettings;
use wa_api::{ApiError, ErrorCode};
use wa_store::{Store, StoreError};

/// The `config_values` name the settings are stored under, as the JSON of `GET`.
pub const APPLICATION_SETTINGS_KEY: &str = "application";
/// Same path as the public API: the webapp relays the request unchanged.
pub const APPLICATION_SETTINGS_PATH: &str = "/v1/settings/application";
/// A settings body is a few hundred bytes; anything this large is not one.
const MAX_BODY_BYTES: usize = 64 * 1024;

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
        let settings = match store.get_config_value(APPLICATION_SETTINGS_KEY).await? {
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
            .put_config_value(APPLICATION_SETTINGS_KEY, stored_json(&next))
            .await
            .map_err(|error| database_error("save", &error))?;
        self.inner.sender.send_replace(next);
        Ok(())
    }

    /// Restores every default (DELETE). The stored row is removed, so the defaults of the running
    /// version apply from now on, also after an upgrade.
    pub async fn reset(&self, store: &Store) -> Result<(), ApiError> {
        let _write = self.inner.writes.lock().await;
        store
            .delete_config_value(APPLICATION_SETTINGS_KEY)
            .await
            .map_err(|error| database_error("reset", &error))?;
        self.inner.sender.send_replace(ApplicationSettings::default());
        Ok(())
    }
}

/// Registers the three methods of `/v1/settings/application`. Expects `web::Data<SettingsHandle>`
/// and `web::Data<Store>` in the app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(APPLICATION_SETTINGS_PATH)
            .route(web::get().to(get_settings))
            .route(web::patch().to(patch_settings))
            .route(web::delete().to(delete_settings))
            .default_service(web::to(method_not_allowed)),
    );
}

async fn get_settings(
    settings: web::Data<SettingsHandle>,
    store: web::Data<Store>,
) -> HttpResponse {
    let mut current = settings.current();
    current.wa_id = registered_wa_id(&store).await;
    let body = json!({ "application": current.to_json() });
    HttpResponse::Ok().json(envelope::payload(
        "settings",
        body,
        Meta::current_coreapp(),
    ))
}

async fn patch_settings(
    settings: web::Data<SettingsHandle>,
    store: web::Data<Store>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let patch = read_json_body(payload).await?;
    settings.patch(&store, &patch).await?;
    Ok(HttpResponse::Ok().json(envelope::meta_only(Meta::current_coreapp())))
}

async fn delete_settings(
    settings: web::Data<SettingsHandle>,
    store: web::Data<Store>,
) -> Result<HttpResponse, ApiError> {
    settings.reset(&store).await?;
    Ok(HttpResponse::Ok().json(envelope::meta_only(Meta::current_coreapp())))
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::method_not_allowed())
}

/// The body as JSON; an empty body is an empty object, which then has no valid parameters.
async fn read_json_body(payload: web::Payload) -> Result<Value, ApiError> {
    let bytes = match payload.to_bytes_limited(MAX_BODY_BYTES).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_too_large)) => {
            return Err(ApiError::new(
                ErrorCode::ParameterValueInvalid,
                format!("Request body is too large: the limit is {MAX_BODY_BYTES} bytes"),
            ))
        }
        Err(_broken) => return Err(ApiError::invalid_json()),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&bytes).map_err(|_| ApiError::invalid_json())
}

/// `wa_id` is read-only and belongs to the registration, so it is read from there on every GET
/// instead of being copied into the settings (where it could go stale after a re-registration).
async fn registered_wa_id(store: &Store) -> String {
    match store.registration().await {
        Ok(registration) => registration.map(|r| r.phone).unwrap_or_default(),
        Err(error) => {
            tracing::warn!("settings: cannot read the registered number: {error}");
            String::new()
        }
    }
}

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
