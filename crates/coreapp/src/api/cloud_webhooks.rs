//! The Cloud API webhook subscription (internal calls behind
//! `/{version}/{waba-id}/subscribed_apps` and `/v1/settings/cloud`): read it, change it (a new
//! callback URL is verified first, as Meta does: a `GET` with `hub.mode=subscribe`, the verify
//! token and a challenge the receiver must echo), end it. Ending it drops the webhooks still
//! queued for it.

use crate::domain::cloud_webhooks::{app_secret, save};
use crate::engine::dispatcher::{describe_transport_error, webhook_client, DispatcherOptions};
use crate::state::CoreState;
use crate::util::body::body_object;
use crate::util::failure::store_failure;
use actix_web::{web, HttpResponse};
use std::time::Duration;
use wa_api::cloud::subscription::{CloudWebhooks, CloudWebhooksChange, CloudWebhooksView};
use wa_api::cloud::webhooks::verification_url;
use wa_api::settings::is_http_url;
use wa_api::webhooks::WebhookTarget;
use wa_api::{ApiError, ErrorCode};

/// How long the receiver has to answer the verification request.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest verify token accepted (Meta sets no published limit; this keeps logs and URLs sane).
const MAX_VERIFY_TOKEN_CHARS: usize = 256;

pub async fn get(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    view(&state).await
}

pub async fn set(state: web::Data<CoreState>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let change: CloudWebhooksChange = serde_json::from_value(body_object(&body)?.into())
        .map_err(|e| ApiError::new(ErrorCode::ParameterValueInvalid, e.to_string()))?;
    let mut next = state.cloud_webhooks.borrow().clone();
    if let Some(url) = &change.callback_url {
        let token = change.verify_token.as_deref().unwrap_or_default();
        verify_callback(&state, url, token).await?;
        next.callback_url = Some(url.clone());
        next.verify_token = Some(token.to_string());
    }
    if let Some(sign) = change.sign_onprem_webhooks {
        next.sign_onprem_webhooks = sign;
    }
    publish(&state, next).await?;
    view(&state).await
}

pub async fn delete(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    let mut next = state.cloud_webhooks.borrow().clone();
    next.callback_url = None;
    next.verify_token = None;
    publish(&state, next).await?;
    let dropped = state
        .store
        .drop_target_callbacks(WebhookTarget::Cloud)
        .await
        .map_err(store_failure)?;
    tracing::info!("Cloud webhook subscription ended; {dropped} queued Cloud webhooks dropped");
    view(&state).await
}

async fn publish(state: &CoreState, next: CloudWebhooks) -> Result<(), ApiError> {
    save(&state.store, &next).await.map_err(store_failure)?;
    state.cloud_webhooks.send_replace(next);
    state.wake_dispatchers();
    Ok(())
}

async fn view(state: &CoreState) -> Result<HttpResponse, ApiError> {
    let app_secret = app_secret(&state.store).await.map_err(store_failure)?;
    let webhooks = state.cloud_webhooks.borrow().clone();
    Ok(HttpResponse::Ok().json(CloudWebhooksView {
        webhooks,
        app_secret,
    }))
}

/// The receiver must answer the verification `GET` with HTTP 200 and exactly the challenge.
async fn verify_callback(state: &CoreState, url: &str, token: &str) -> Result<(), ApiError> {
    if !is_http_url(url) {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            "Parameter 'override_callback_uri' must be an absolute http or https URL",
        ));
    }
    if token.is_empty() || token.chars().count() > MAX_VERIFY_TOKEN_CHARS {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            format!(
                "Parameter 'verify_token' is required, at most {MAX_VERIFY_TOKEN_CHARS} characters"
            ),
        ));
    }
    let challenge = rand::random::<u64>().to_string();
    let options = DispatcherOptions {
        request_timeout: VERIFY_TIMEOUT,
        ..DispatcherOptions::default()
    };
    let extra_ca = state.webhook_ca.borrow().clone();
    let http = webhook_client(&options, extra_ca.as_deref()).map_err(|error| {
        tracing::error!("cannot build the webhook client: {error}");
        ApiError::new(ErrorCode::InternalError, "Cannot verify the callback URL")
    })?;
    let refused = |why: String| {
        ApiError::new(
            ErrorCode::ParameterValueInvalid,
            format!("Callback verification failed: {why}"),
        )
    };
    let response = http
        .get(verification_url(url, token, &challenge))
        .send()
        .await
        .map_err(|e| refused(format!("no answer ({})", describe_transport_error(&e))))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status != reqwest::StatusCode::OK {
        return Err(refused(format!("HTTP status {}", status.as_u16())));
    }
    if text.trim() != challenge {
        return Err(refused("the answer was not the challenge".to_string()));
    }
    Ok(())
}
