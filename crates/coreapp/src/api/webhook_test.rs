//! EXTENSION `POST /v1/settings/application/webhooks/test`: posts one small sample callback to the
//! configured webhook URL and reports what the receiver answered, so an administrator (the admin
//! console) can check the URL without waiting for real traffic. Nothing is queued: the outbox and
//! its retries are not involved.

use crate::state::CoreState;
use crate::util::now_ms;
use actix_web::{web, HttpResponse};
use reqwest::header::CONTENT_TYPE;
use serde::Serialize;
use serde_json::json;
use std::time::{Duration, Instant};
use wa_api::envelope::{payload, Meta};
use wa_api::{ApiError, ErrorCode};

pub const WEBHOOK_TEST_PATH: &str = "/v1/settings/application/webhooks/test";
/// How much of the receiver's answer is shown.
const MAX_SHOWN_BODY_BYTES: usize = 1024;
/// The same limits as the dispatcher's defaults.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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

pub async fn run(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.current();
    let url = settings
        .webhook_url()
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::WebhooksUrlNotConfigured,
                "Set settings.application.webhooks.url first",
            )
        })?
        .to_string();
    let wa_id = state.registered_number().await?.unwrap_or_default();
    let outcome = post_sample(&url, &wa_id).await?;
    Ok(HttpResponse::Ok().json(payload("webhook_test", outcome, Meta::current_coreapp())))
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

async fn post_sample(url: &str, wa_id: &str) -> Result<WebhookTestOutcome, ApiError> {
    let http = client()?;
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
        Err(error) => outcome.error = Some(describe(&error)),
    }
    outcome.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(outcome)
}

/// Built like the dispatcher's client (no redirects, same time limits).
fn client() -> Result<reqwest::Client, ApiError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|error| {
            tracing::error!("cannot build the webhook test client: {error}");
            ApiError::new(ErrorCode::InternalError, "Cannot send the test webhook")
        })
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

/// The failure and its causes, without the URL (which may carry a secret).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timeout".to_string()
    } else if error.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
