//! The business's profile (spec onprem-rest §8.6–8.9, §7.3–7.4): `about`, the photo, the business
//! profile, the compliance info and the two-step PIN. Stored in the database; what consumers see
//! (about, photo, business profile) and the PIN are pushed to the network on every change and
//! after every (re)connection, so the network converges on what the database holds.

use crate::domain::profile::{
    encode, get_value, put_value, spawn_profile_push, spawn_two_step_push,
};
use crate::state::CoreState;
use crate::util::body::body_object;
use crate::util::failure::store_failure;
use actix_web::{web, HttpResponse};
use base64::Engine;
use serde_json::{json, Value};
use wa_api::envelope::{meta_only, payload};
use wa_api::keys::{
    BUSINESS_PROFILE, COMPLIANCE_INFO, PROFILE_ABOUT, PROFILE_PHOTO_BLOB, TWO_STEP_PIN,
};
use wa_api::{ApiError, ErrorCode, Meta};

use wa_api::limits::ABOUT_CHARS as MAX_ABOUT_CHARS;

fn ok_meta() -> HttpResponse {
    HttpResponse::Ok().json(meta_only(Meta::current_coreapp()))
}

fn settings_payload(body: Value) -> HttpResponse {
    HttpResponse::Ok().json(payload("settings", body, Meta::current_coreapp()))
}

pub async fn get_about(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    let about = state.about().await?;
    Ok(settings_payload(
        json!({ "profile": { "about": { "text": about } } }),
    ))
}

pub async fn set_about(
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
    put_value(&state, PROFILE_ABOUT, text.clone()).await?;
    spawn_profile_push(state.clone().into_inner());
    Ok(ok_meta())
}

pub async fn get_photo(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    match state
        .store
        .get_blob(PROFILE_PHOTO_BLOB)
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

pub async fn set_photo(
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
        .put_blob(PROFILE_PHOTO_BLOB, bytes)
        .await
        .map_err(store_failure)?;
    spawn_profile_push(state.clone().into_inner());
    Ok(HttpResponse::Created().json(meta_only(Meta::current_coreapp())))
}

pub async fn delete_photo(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    state
        .store
        .delete_blob(PROFILE_PHOTO_BLOB)
        .await
        .map_err(store_failure)?;
    spawn_profile_push(state.clone().into_inner());
    Ok(ok_meta())
}

pub async fn get_business(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    let profile = state.business_profile().await?;
    Ok(settings_payload(
        json!({ "business": { "profile": profile } }),
    ))
}

pub async fn set_business(
    state: web::Data<CoreState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = body_object(&body)?;
    let _write = state.profile_writes.lock().await;
    let mut profile = state.business_profile().await?;
    crate::domain::business::apply_business_profile(&mut profile, &body)?;
    put_value(&state, BUSINESS_PROFILE, Value::Object(profile).to_string()).await?;
    spawn_profile_push(state.clone().into_inner());
    Ok(ok_meta())
}

pub async fn get_compliance(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    let info = match get_value(&state, COMPLIANCE_INFO).await? {
        Some(text) => serde_json::from_str(&text).unwrap_or_else(|_| json!({})),
        None => json!({}),
    };
    Ok(settings_payload(
        json!({ "business": { "compliance_info": info } }),
    ))
}

pub async fn set_compliance(
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
    let info = crate::domain::business::validate_compliance(&body)?;
    if !address_set {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            "Set the business address (POST /v1/settings/business/profile) before the compliance info",
        ));
    }
    put_value(&state, COMPLIANCE_INFO, info.to_string()).await?;
    Ok(ok_meta())
}

pub async fn enable_two_step(
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
    put_value(&state, TWO_STEP_PIN, pin.clone()).await?;
    spawn_two_step_push(state.clone().into_inner());
    Ok(ok_meta())
}

pub async fn disable_two_step(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    state
        .store
        .delete_config_value(TWO_STEP_PIN)
        .await
        .map_err(store_failure)?;
    spawn_two_step_push(state.clone().into_inner());
    Ok(ok_meta())
}
