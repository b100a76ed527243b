//! EXTENSION `POST /v1/settings/application/webhooks/test`: posts one small sample callback to the
//! configured webhook URL (or to the `url` of the body, so a URL can be tried before it is saved)
//! and reports what the receiver answered, so an administrator (the admin
//! console) can check the URL without waiting for real traffic. Nothing is queued: the outbox and
//! its retries are not involved.

use crate::engine::dispatcher::{describe_transport_error, webhook_client, DispatcherOptions};
use crate::state::CoreState;
use crate::util::body::body_object;
use crate::util::now_ms;
use actix_web::{web, HttpResponse};
use reqwest::header::CONTENT_TYPE;
use serde::Serialize;
use serde_json::{json, Value};
use std::time::Instant;
use wa_api::envelope::{payload, Meta};
use wa_api::settings::is_http_url;
use wa_api::{ApiError, ErrorCode};

pub const WEBHOOK_TEST_PATH: &str = "/v1/settings/application/webhooks/test";
/// How much of the receiver's answer is shown.
const MAX_SHOWN_BODY_BYTES: usize = 1024;

/// What the receiver did with the sample callback.
#[derive(Debug, Serialize)]
pub struct WebhookTestOutcome {
    pub url: String,
    /// HTTP status of the answer; `None` when there was no answer.
    pub status: Option<u16>,
    /// The first KB of the answer's body, as text.
    pub body: Option<String>,
    /// Why there was no answer.
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

pub async fn run(state: web::Data<CoreState>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let url = target_url(&state, &body)?;
    let wa_id = state.registered_number().await?.unwrap_or_default();
    // The dispatcher's own client, trusting the same webhook CA, so the test cannot disagree
    // with real deliveries to the same URL.
    let extra_ca = state.webhook_ca.borrow().clone();
    let http =
        webhook_client(&DispatcherOptions::default(), extra_ca.as_deref()).map_err(|error| {
            tracing::error!("cannot build the webhook test client: {error}");
            ApiError::new(ErrorCode::InternalError, "Cannot send the test webhook")
        })?;
    let outcome = post_sample(&http, &url, &wa_id).await?;
    Ok(HttpResponse::Ok().json(payload("webhook_test", outcome, Meta::current_coreapp())))
}

/// The URL to test: the body's `url` when given (the console tests what the administrator typed
/// before saving it), else the saved webhook URL.
fn target_url(state: &CoreState, body: &[u8]) -> Result<String, ApiError> {
    let body = body_object(body)?;
    match body.get("url") {
        None | Some(Value::Null) => {}
        Some(Value::String(url)) if is_http_url(url) => return Ok(url.clone()),
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::ParameterValueInvalid,
                format!("Parameter 'url' has invalid value {other}: an absolute http or https URL is needed"),
            ))
        }
    }
    let settings = state.settings.current();
    settings.webhook_url().map(str::to_string).ok_or_else(|| {
        ApiError::new(
            ErrorCode::WebhooksUrlNotConfigured,
            "Set settings.application.webhooks.url first",
        )
    })
}

/// The body a receiver gets: clearly a test, so an integration can ignore it.
fn sample_body(wa_id: &str) -> serde_json::Value {
    json!({
        "test": {
            "description": "Test callback sent from the admin console",
            "wa_id": wa_id,
            "timestamp": (now_ms() / 1000).to_string(),
        }
    })
}

async fn post_sample(
    http: &reqwest::Client,
    url: &str,
    wa_id: &str,
) -> Result<WebhookTestOutcome, ApiError> {
    let started = Instant::now();
    let answer = http
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .body(sample_body(wa_id).to_string())
        .send()
        .await;
    let mut outcome = WebhookTestOutcome {
        url: url.to_string(),
        status: None,
        body: None,
        error: None,
        elapsed_ms: 0,
    };
    match answer {
        Ok(response) => {
            outcome.status = Some(response.status().as_u16());
            outcome.body = Some(read_start(response).await);
        }
        Err(error) => outcome.error = Some(describe_transport_error(&error)),
    }
    outcome.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(outcome)
}

/// The first [`MAX_SHOWN_BODY_BYTES`] of the body, read no further.
async fn read_start(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        bytes.extend_from_slice(&chunk);
        if bytes.len() >= MAX_SHOWN_BODY_BYTES {
            bytes.truncate(MAX_SHOWN_BODY_BYTES);
            break;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
