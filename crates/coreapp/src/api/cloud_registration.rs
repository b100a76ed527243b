//! Cloud's `POST /{phone-number-id}/register` and `/deregister` (internal calls behind them).
//!
//! Cloud numbers are verified before the API registers them; here the number is the one this
//! installation registered (`POST /v1/account` and `/verify`), so deregistering keeps its
//! credentials and only stops using them: the coreapp falls back to an anonymous session (health
//! `unregistered`), sends wait or are refused, and the network holds what customers write. Register
//! applies Cloud's two-step rule (the PIN is set when the number has none, else it must match)
//! and connects with the kept credentials again.

use crate::domain::profile::{get_value, put_value, spawn_two_step_push};
use crate::state::CoreState;
use crate::util::body::{body_object, required_str};
use crate::util::failure::store_failure;
use actix_web::{web, HttpResponse};
use wa_api::cloud::registration::is_pin;
use wa_api::envelope::meta_only;
use wa_api::keys::TWO_STEP_PIN;
use wa_api::{ApiError, ErrorCode, Meta};
use wa_store::Registration;

pub async fn register(
    state: web::Data<CoreState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = body_object(&body)?;
    let pin = required_str(&body, "pin")?;
    if !is_pin(pin) {
        return Err(ApiError::invalid_parameter("pin", pin));
    }
    let registration = current(&state).await?;
    match get_value(&state, TWO_STEP_PIN).await? {
        // The On-Prem wording of a re-registration with the wrong PIN; the webapp answers 133005.
        Some(stored) if stored != pin => {
            return Err(ApiError::new(
                ErrorCode::AccessDenied,
                "Registration failed for reason 'incorrect_two_step_pin'",
            ))
        }
        Some(_) => {}
        None => {
            put_value(&state, TWO_STEP_PIN, pin.to_string()).await?;
            spawn_two_step_push(state.clone().into_inner());
        }
    }
    if registration.deregistered_at.is_some() {
        set_deregistered(&state, None).await?;
        tracing::info!(
            "+{} registered again through the Cloud API; connecting",
            registration.phone
        );
    }
    Ok(HttpResponse::Ok().json(meta_only(Meta::current_coreapp())))
}

pub async fn deregister(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    let registration = current(&state).await?;
    if registration.deregistered_at.is_none() {
        set_deregistered(&state, Some(crate::util::now_ms() / 1000)).await?;
        tracing::warn!(
            "+{} deregistered through the Cloud API: the coreapp disconnects until \
             POST /{{phone-number-id}}/register",
            registration.phone
        );
    }
    Ok(HttpResponse::Ok().json(meta_only(Meta::current_coreapp())))
}

/// The stored registration; both calls act on the number the installation registered.
async fn current(state: &CoreState) -> Result<Registration, ApiError> {
    state
        .store
        .registration()
        .await
        .map_err(store_failure)?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ParameterValueInvalid,
                "No number is registered on this installation: register it with POST /v1/account",
            )
        })
}

/// Stores the change and reconnects: with the credentials when registered again, anonymously
/// when deregistered. Other coreapps of a cluster see it at their next heartbeat.
async fn set_deregistered(state: &CoreState, at: Option<i64>) -> Result<(), ApiError> {
    state
        .store
        .set_deregistered(at)
        .await
        .map_err(store_failure)?;
    state.registration_replaced();
    Ok(())
}
