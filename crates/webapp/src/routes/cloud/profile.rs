//! `GET`/`POST /{version}/{phone-number-id}/whatsapp_business_profile`: On-Prem's business
//! profile and about text in Cloud's one object (`wa_api::cloud::profile`). Administrators
//! only, as the On-Prem profile endpoints are.

use super::caller::{admin_on_number, body_of, success};
use super::messages::{call, succeeded};
use crate::auth::AuthUser;
use crate::body::JsonParams;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use wa_api::cloud::profile::{profile_answer, profile_update};
use wa_api::cloud::CloudError;
use wa_api::rpc::Endpoint;
use wa_api::ApiError;

pub async fn get(
    req: HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, CloudError> {
    admin_on_number(caller, &state, &req).await?;
    let business = succeeded(call(&state, Endpoint::BusinessProfileGet, None).await?)?;
    let about = succeeded(call(&state, Endpoint::ProfileAboutGet, None).await?)?;
    let about = about["settings"]["profile"]["about"]["text"]
        .as_str()
        .unwrap_or_default();
    let profile = &business["settings"]["business"]["profile"];
    Ok(HttpResponse::Ok().json(profile_answer(profile, about)))
}

pub async fn post(
    req: HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: web::Data<AppState>,
    params: Result<JsonParams, ApiError>,
) -> Result<HttpResponse, CloudError> {
    admin_on_number(caller, &state, &req).await?;
    let update = profile_update(&body_of(params)?)?;
    // The business fields first: they have the most rules, so a refusal changes nothing.
    if !update.business.is_empty() {
        let body = Value::Object(update.business);
        succeeded(call(&state, Endpoint::BusinessProfileSet, Some(body)).await?)?;
    }
    if let Some(text) = update.about {
        let body = json!({ "text": text });
        succeeded(call(&state, Endpoint::ProfileAboutSet, Some(body)).await?)?;
    }
    Ok(success())
}
