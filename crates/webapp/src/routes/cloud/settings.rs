//! `GET`/`PATCH /v1/settings/cloud` (an extension, administrators only, in On-Prem's envelope):
//! what a Cloud integration needs to know about this installation — the phone-number, business
//! account and app ids, the app secret that signs Cloud webhooks, the subscribed callback — and
//! the switch that signs On-Prem webhooks with the same secret.

use super::caller::registered;
use super::messages::call;
use crate::auth::AuthUser;
use crate::body::JsonParams;
use crate::routes::forward::relay;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use wa_api::cloud::ids;
use wa_api::envelope::payload;
use wa_api::rpc::Endpoint;
use wa_api::{ApiError, ErrorCode, Meta};

pub async fn get(caller: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    answer(&state).await
}

pub async fn patch(
    caller: AuthUser,
    state: web::Data<AppState>,
    body: JsonParams,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let fields = body.into_value();
    let mut change = json!({});
    for (key, value) in fields.as_object().into_iter().flatten() {
        match (key.as_str(), value) {
            ("sign_onprem_webhooks", Value::Bool(sign)) => change[key] = json!(sign),
            ("sign_onprem_webhooks", other) => {
                return Err(ApiError::invalid_parameter(key, &other.to_string()))
            }
            _ => {
                return Err(ApiError::new(
                    ErrorCode::ParameterValueInvalid,
                    format!("Unknown parameter '{key}': only sign_onprem_webhooks can be changed here; subscribe a callback with POST /{{version}}/{{waba-id}}/subscribed_apps"),
                ))
            }
        }
    }
    let answer = call(&state, Endpoint::CloudWebhooksSet, Some(change)).await?;
    if answer.status >= 300 {
        return Ok(relay(answer));
    }
    self::answer(&state).await
}

async fn answer(state: &AppState) -> Result<HttpResponse, ApiError> {
    let subscription = call(state, Endpoint::CloudWebhooksGet, None).await?;
    if subscription.status >= 300 {
        return Ok(relay(subscription));
    }
    let mut cloud = subscription.body;
    let number = registered(state)
        .await
        .map_err(|_| ApiError::new(ErrorCode::DatabaseError, "Cannot read the registration"))?;
    for (field, value) in [
        (
            "phone_number_id",
            number.as_ref().map(|n| n.phone_number_id.clone()),
        ),
        ("waba_id", number.as_ref().map(|n| n.waba_id.clone())),
        ("app_id", number.as_ref().map(|n| ids::app_id(&n.wa_id))),
    ] {
        cloud[field] = json!(value);
    }
    Ok(HttpResponse::Ok().json(payload(
        "settings",
        json!({ "cloud": cloud }),
        Meta::current_webapp(),
    )))
}
