//! The business's profile (spec onprem-rest §8.6–8.9, §7.3–7.4): `about`, the photo, the business
//! profile, the compliance info and the two-step PIN. Stored in the database; what consumers see
//! (about, photo, business profile) and the PIN are pushed to the network on every change and
//! after every (re)connection, so the network converges on what the database holds.

use crate::network::NetClient;
use crate::rpc::{body_object, store_failure};
use crate::CoreState;
use actix_web::{web, HttpResponse};
use base64::Engine;
use serde_json::{json, Map, Value};
use wa_api::envelope::{meta_only, payload};
use wa_api::{ApiError, ErrorCode, Meta};
use wa_netproto::{BusinessProfile, Request, Response};

pub const ABOUT_KEY: &str = "profile.about";
pub const BUSINESS_PROFILE_KEY: &str = "business.profile";
pub const COMPLIANCE_KEY: &str = "business.compliance_info";
pub const TWO_STEP_KEY: &str = "account.two_step_pin";
pub const PHOTO_BLOB: &str = "profile.photo";
/// Internal path the webapp uses for the photo (raw bytes travel base64-encoded in JSON).
pub const PHOTO_RPC_PATH: &str = "/rpc/profile/photo";

/// What a new WhatsApp account shows until the business sets its own.
const DEFAULT_ABOUT: &str = "Hey there! I am using WhatsApp.";
const MAX_ABOUT_CHARS: usize = 139;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/settings/profile/about", web::get().to(get_about))
        .route("/v1/settings/profile/about", web::patch().to(set_about))
        .route(PHOTO_RPC_PATH, web::get().to(get_photo))
        .route(PHOTO_RPC_PATH, web::post().to(set_photo))
        .route(PHOTO_RPC_PATH, web::delete().to(delete_photo))
        .route("/v1/settings/business/profile", web::get().to(get_business))
        .route(
            "/v1/settings/business/profile",
            web::post().to(set_business),
        )
        .route(
            "/v1/settings/business/compliance_info",
            web::get().to(get_compliance),
        )
        .route(
            "/v1/settings/business/compliance_info",
            web::post().to(set_compliance),
        )
        .route(
            "/v1/settings/account/two-step",
            web::post().to(enable_two_step),
        )
        .route(
            "/v1/settings/account/two-step",
            web::delete().to(disable_two_step),
        );
}

fn ok_meta() -> HttpResponse {
    HttpResponse::Ok().json(meta_only(Meta::current_coreapp()))
}

fn settings_payload(body: Value) -> HttpResponse {
    HttpResponse::Ok().json(payload("settings", body, Meta::current_coreapp()))
}

async fn get_about(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    let about = state.about().await?;
    Ok(settings_payload(
        json!({ "profile": { "about": { "text": about } } }),
    ))
}

async fn set_about(
    state: web::Data<CoreState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = body_object(&body)?;
    let text = match body.get("text") {
        None | Some(Value::Null) => return Err(ApiError::missing_parameter("text")),
        Some(Value::String(text)) => text,
        Some(other) => return Err(ApiError::invalid_parameter("text", &other.to_string())),
    };
    if text.chars().count() > MAX_ABOUT_CHARS {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            format!("Parameter 'text' is too long: at most {MAX_ABOUT_CHARS} characters"),
        ));
    }
    put_value(&state, ABOUT_KEY, text.clone()).await?;
    spawn_profile_push(&state);
    Ok(ok_meta())
}

async fn get_photo(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    match state
        .store
        .get_blob(PHOTO_BLOB)
        .await
        .map_err(store_failure)?
    {
        Some(bytes) => Ok(HttpResponse::Ok().json(json!({ "photo": encode(&bytes) }))),
        None => Err(ApiError::new(
            ErrorCode::ResourceNotFound,
            "No picture set.",
        )),
    }
}

async fn set_photo(
    state: web::Data<CoreState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = body_object(&body)?;
    let bytes = match body.get("photo") {
        Some(Value::String(text)) => base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| ApiError::invalid_parameter("photo", "not base64"))?,
        _ => {
            return Err(ApiError::new(
                ErrorCode::RequiredParameterMissing,
                "No data found",
            ))
        }
    };
    state
        .store
        .put_blob(PHOTO_BLOB, bytes)
        .await
        .map_err(store_failure)?;
    spawn_profile_push(&state);
    Ok(HttpResponse::Created().json(meta_only(Meta::current_coreapp())))
}

async fn delete_photo(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    state
        .store
        .delete_blob(PHOTO_BLOB)
        .await
        .map_err(store_failure)?;
    spawn_profile_push(&state);
    Ok(ok_meta())
}

async fn get_business(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    let profile = state.business_profile().await?;
    Ok(settings_payload(
        json!({ "business": { "profile": profile } }),
    ))
}

async fn set_business(
    state: web::Data<CoreState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = body_object(&body)?;
    let _write = state.profile_writes.lock().await;
    let mut profile = state.business_profile().await?;
    crate::business::apply_business_profile(&mut profile, &body)?;
    put_value(
        &state,
        BUSINESS_PROFILE_KEY,
        Value::Object(profile).to_string(),
    )
    .await?;
    spawn_profile_push(&state);
    Ok(ok_meta())
}

async fn get_compliance(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    let info = match get_value(&state, COMPLIANCE_KEY).await? {
        Some(text) => serde_json::from_str(&text).unwrap_or_else(|_| json!({})),
        None => json!({}),
    };
    Ok(settings_payload(
        json!({ "business": { "compliance_info": info } }),
    ))
}

async fn set_compliance(
    state: web::Data<CoreState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = body_object(&body)?;
    let address_set = state
        .business_profile()
        .await?
        .get("address")
        .and_then(Value::as_str)
        .is_some_and(|a| !a.is_empty());
    let info = crate::business::validate_compliance(&body)?;
    if !address_set {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            "Set the business address (POST /v1/settings/business/profile) before the compliance info",
        ));
    }
    put_value(&state, COMPLIANCE_KEY, info.to_string()).await?;
    Ok(ok_meta())
}

async fn enable_two_step(
    state: web::Data<CoreState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = body_object(&body)?;
    let pin = match body.get("pin") {
        None | Some(Value::Null) => return Err(ApiError::missing_parameter("pin")),
        Some(Value::String(pin)) => pin,
        Some(other) => return Err(ApiError::invalid_parameter("pin", &other.to_string())),
    };
    if pin.is_empty() {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            "Pin must not be empty",
        ));
    }
    if pin.len() != 6 || !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            "Pin must be 6 digits",
        ));
    }
    put_value(&state, TWO_STEP_KEY, pin.clone()).await?;
    spawn_two_step_push(&state);
    Ok(ok_meta())
}

async fn disable_two_step(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    state
        .store
        .delete_config_value(TWO_STEP_KEY)
        .await
        .map_err(store_failure)?;
    spawn_two_step_push(&state);
    Ok(ok_meta())
}

fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn get_value(state: &CoreState, key: &str) -> Result<Option<String>, ApiError> {
    state
        .store
        .get_config_value(key)
        .await
        .map_err(store_failure)
}

async fn put_value(state: &CoreState, key: &str, value: String) -> Result<(), ApiError> {
    state
        .store
        .put_config_value(key, value)
        .await
        .map_err(store_failure)
}

impl CoreState {
    pub async fn about(&self) -> Result<String, ApiError> {
        Ok(get_value(self, ABOUT_KEY)
            .await?
            .unwrap_or_else(|| DEFAULT_ABOUT.to_string()))
    }

    /// The stored business profile with every field present (empty when never set).
    pub async fn business_profile(&self) -> Result<Map<String, Value>, ApiError> {
        let stored = get_value(self, BUSINESS_PROFILE_KEY).await?;
        let mut profile = crate::business::empty_business_profile();
        if let Some(Ok(Value::Object(saved))) = stored.map(|t| serde_json::from_str(&t)) {
            profile.extend(saved);
        }
        Ok(profile)
    }

    async fn network_profile(&self) -> Result<BusinessProfile, ApiError> {
        let photo = self
            .store
            .get_blob(PHOTO_BLOB)
            .await
            .map_err(store_failure)?;
        Ok(BusinessProfile {
            about: Some(self.about().await?),
            photo: photo.map(|bytes| encode(&bytes)),
            business: Value::Object(self.business_profile().await?),
        })
    }
}

/// Sends the profile and the two-step PIN on a fresh business session (after every connect).
/// A PIN is only ever pushed here, never its absence: an installation that re-registered a
/// number with its PIN (and so has none stored) must not switch the number's two-step off.
/// Turning it off is an explicit `DELETE`.
pub async fn push_all(state: &CoreState, client: &NetClient) {
    push_profile(state, client).await;
    match state.store.get_config_value(TWO_STEP_KEY).await {
        Ok(Some(_)) => push_two_step(state, client).await,
        Ok(None) => {}
        Err(e) => tracing::warn!("cannot read the two-step PIN to push it: {e}"),
    }
}

fn spawn_profile_push(state: &web::Data<CoreState>) {
    let state = state.clone().into_inner();
    tokio::spawn(async move {
        if let Some(client) = state.session() {
            push_profile(&state, &client).await;
        }
    });
}

fn spawn_two_step_push(state: &web::Data<CoreState>) {
    let state = state.clone().into_inner();
    tokio::spawn(async move {
        if let Some(client) = state.session() {
            push_two_step(&state, &client).await;
        }
    });
}

/// Failures are logged only: the next connection pushes again. Pushes are serialised, each
/// reading the database when its turn comes, so the last one sent is always the newest profile.
async fn push_profile(state: &CoreState, client: &NetClient) {
    let _turn = state.profile_push.lock().await;
    let profile = match state.network_profile().await {
        Ok(profile) => profile,
        Err(e) => return tracing::warn!("cannot read the profile to push it: {e}"),
    };
    log_push(
        "profile",
        client.request(Request::SetProfile { profile }).await,
    );
}

async fn push_two_step(state: &CoreState, client: &NetClient) {
    let _turn = state.two_step_push.lock().await;
    let pin = match state.store.get_config_value(TWO_STEP_KEY).await {
        Ok(pin) => pin,
        Err(e) => return tracing::warn!("cannot read the two-step PIN to push it: {e}"),
    };
    log_push(
        "two-step setting",
        client.request(Request::SetTwoStep { pin }).await,
    );
}

fn log_push(what: &str, result: Result<Response, crate::network::SessionError>) {
    match result {
        Ok(_) => tracing::debug!("{what} pushed to the network"),
        Err(e) => tracing::info!(
            "{what} not pushed to the network yet ({e}); retried on the next connection"
        ),
    }
}
