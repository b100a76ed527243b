//! Multiconnect shards (spec onprem-rest §7.5–7.6): `GET /v1/account/shards` reads the stored
//! shard count, `POST /v1/account/shards` changes it. Both are master-only (a non-primary master
//! answers 1017 before reaching here); the primary's assignment loop then gives each shard a
//! coreapp.

use crate::domain::shards;
use crate::state::CoreState;
use crate::util::body::{body_object, required_str};
use crate::util::failure::store_failure;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use wa_api::envelope::{meta_only, payload};
use wa_api::{ApiError, ErrorCode, Meta};

pub async fn get(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    let count = shards::stored_count(&state.store)
        .await
        .map_err(store_failure)?;
    let account = json!({ "shards": count });
    Ok(HttpResponse::Ok().json(payload("account", account, Meta::current_coreapp())))
}

pub async fn set(state: web::Data<CoreState>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let body = body_object(&body)?;
    let cc = required_str(&body, "cc")?;
    let number = required_str(&body, "phone_number")?;
    let count = shard_count(&body)?;
    let cert = required_str(&body, "cert")?;
    if cert.trim().is_empty() {
        return Err(ApiError::invalid_parameter("cert", cert));
    }
    check_pin(&state, body.get("pin")).await?;
    let registered = state.registered_number().await?;
    if registered.as_deref() != Some(format!("{cc}{number}").as_str()) {
        return Err(ApiError::new(
            ErrorCode::AccessDenied,
            "cc and phone_number must be the number registered on this installation",
        ));
    }
    if count > 1 && !state.cluster.enabled {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            "Multiconnect needs a cluster (masters and coreapps with WA_APP_MULTICONNECT=1); \
             a single node has 1 shard",
        ));
    }
    shards::save_count(&state.store, count)
        .await
        .map_err(store_failure)?;
    tracing::info!("shard count set to {count}");
    state.cluster.reassign.notify_one();
    Ok(HttpResponse::Created().json(meta_only(Meta::current_coreapp())))
}

/// `shards`: an integer among 1, 2, 4, 8, 16, 32.
fn shard_count(body: &serde_json::Map<String, Value>) -> Result<u32, ApiError> {
    let value = body
        .get("shards")
        .ok_or_else(|| ApiError::missing_parameter("shards"))?;
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| wa_api::cluster::is_shard_count(*n))
        .ok_or_else(|| ApiError::invalid_parameter("shards", &value.to_string()))
}

/// With two-step verification on, `pin` must be the stored PIN.
async fn check_pin(state: &CoreState, pin: Option<&Value>) -> Result<(), ApiError> {
    let given = match pin {
        None | Some(Value::Null) => None,
        Some(Value::String(pin)) => Some(pin.as_str()),
        Some(other) => return Err(ApiError::invalid_parameter("pin", &other.to_string())),
    };
    let stored = state
        .store
        .get_config_value(wa_api::keys::TWO_STEP_PIN)
        .await
        .map_err(store_failure)?;
    match (stored, given) {
        (Some(stored), Some(given)) if stored == given => Ok(()),
        (Some(_), Some(given)) => Err(ApiError::invalid_parameter("pin", given)),
        (Some(_), None) => Err(ApiError::missing_parameter("pin")),
        (None, _) => Ok(()),
    }
}
