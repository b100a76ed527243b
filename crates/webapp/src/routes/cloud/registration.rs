//! `POST /{version}/{phone-number-id}/register` and `/deregister`: the number stops and starts
//! serving, as a Cloud number does. Deregistering keeps its credentials (the coreapp disconnects
//! and sends answer 133010); registering needs the two-step PIN, which it sets when the number
//! has none (133005 when it does not match). Answers `{"success": true}`.

use super::caller::{admin_on_number, body_of, success};
use super::messages::{call, succeeded};
use crate::auth::AuthUser;
use crate::body::JsonParams;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use wa_api::cloud::registration::register_pin;
use wa_api::cloud::{CloudCode, CloudError};
use wa_api::rpc::Endpoint;
use wa_api::{ApiError, ErrorCode};

pub async fn register(
    req: HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: web::Data<AppState>,
    params: Result<JsonParams, ApiError>,
) -> Result<HttpResponse, CloudError> {
    // Taking a number out of service is an administrator's act, as registering it On-Prem is.
    admin_on_number(caller, &state, &req).await?;
    let pin = register_pin(&body_of(params)?)?;
    let answer = call(&state, Endpoint::CloudRegister, Some(json!({ "pin": pin }))).await?;
    succeeded(answer).map_err(pin_mismatch)?;
    Ok(success())
}

pub async fn deregister(
    req: HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, CloudError> {
    admin_on_number(caller, &state, &req).await?;
    succeeded(call(&state, Endpoint::CloudDeregister, None).await?)?;
    Ok(success())
}

/// The coreapp refuses a wrong PIN as an On-Prem re-registration does (1005, which the table
/// would answer as 131005); Cloud's register answers 133005 for it.
fn pin_mismatch(error: CloudError) -> CloudError {
    if error.code == CloudCode::for_onprem(ErrorCode::AccessDenied.code()) {
        return CloudError::new(
            CloudCode::PinMismatch,
            "The PIN does not match the number's two-step verification PIN",
        );
    }
    error
}
