//! `GET`/`POST`/`DELETE /{version}/{waba-id}/subscribed_apps`: the Cloud webhook subscription.
//! A `POST` with `override_callback_uri` and `verify_token` (in the JSON body or the query)
//! subscribes once the callback answered the verification request; Cloud webhooks are then
//! queued for it, signed with the app secret (`GET /v1/settings/cloud` shows it). `DELETE`
//! unsubscribes and drops what is still queued for it.

use super::caller::{
    admin_on_account, authenticated, body_of, business_account, success, BusinessNumber,
};
use super::messages::{call, succeeded};
use crate::auth::AuthUser;
use crate::body::JsonParams;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use wa_api::cloud::subscription::{CloudWebhooks, CloudWebhooksChange};
use wa_api::cloud::{ids, CloudError};
use wa_api::rpc::Endpoint;
use wa_api::ApiError;

pub async fn list(
    req: HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, CloudError> {
    authenticated(caller)?;
    let number = business_account(&state, &req).await?;
    let current = subscription(succeeded(
        call(&state, Endpoint::CloudWebhooksGet, None).await?,
    )?);
    let data: Vec<Value> = current
        .callback_url
        .iter()
        .map(|url| {
            json!({
                "whatsapp_business_api_data": app(&number),
                "override_callback_uri": url,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "data": data })))
}

pub async fn subscribe(
    req: HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: web::Data<AppState>,
    body: Result<JsonParams, ApiError>,
    query: Result<web::Query<HashMap<String, String>>, actix_web::Error>,
) -> Result<HttpResponse, CloudError> {
    admin_on_account(caller, &state, &req).await?;
    let body = body_of(body)?;
    let query = query
        .map_err(|_| CloudError::invalid_parameter("Invalid query parameters."))?
        .into_inner();
    let callback_url = param(&body, &query, "override_callback_uri")?;
    let verify_token = param(&body, &query, "verify_token")?;
    let Some(callback_url) = callback_url else {
        // Meta subscribes the app's own callback; this installation has none but the override.
        let current = subscription(succeeded(
            call(&state, Endpoint::CloudWebhooksGet, None).await?,
        )?);
        return match current.callback_url {
            Some(_) => Ok(success()),
            None => Err(CloudError::invalid_parameter(
                "The parameter override_callback_uri is required.",
            )),
        };
    };
    let change = CloudWebhooksChange {
        callback_url: Some(callback_url),
        verify_token,
        sign_onprem_webhooks: None,
    };
    let body = serde_json::to_value(change).unwrap_or_default();
    succeeded(call(&state, Endpoint::CloudWebhooksSet, Some(body)).await?)?;
    Ok(success())
}

pub async fn unsubscribe(
    req: HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, CloudError> {
    admin_on_account(caller, &state, &req).await?;
    succeeded(call(&state, Endpoint::CloudWebhooksDelete, None).await?)?;
    Ok(success())
}

/// A string parameter from the body, else the query; another type is 100.
fn param(
    body: &Map<String, Value>,
    query: &HashMap<String, String>,
    name: &str,
) -> Result<Option<String>, CloudError> {
    match body.get(name) {
        Some(Value::String(text)) => Ok(Some(text.clone())),
        None | Some(Value::Null) => Ok(query.get(name).cloned()),
        Some(_) => Err(CloudError::invalid_parameter(format!(
            "Param {name} must be a string."
        ))),
    }
}

fn subscription(answer: Value) -> CloudWebhooks {
    serde_json::from_value(answer).unwrap_or_default()
}

fn app(number: &BusinessNumber) -> Value {
    let id = ids::app_id(&number.wa_id);
    json!({
        "id": id,
        "link": format!("https://www.facebook.com/games/?app_id={id}"),
        "name": number.verified_name,
    })
}
