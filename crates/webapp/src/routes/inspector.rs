//! `GET /console/webhooks`: the webhook inbox of the simulated network (its control API's
//! `GET /control/webhooks`), for the console's live view of the webhooks a local setup sends.
//! Console-only, outside `/v1`: administrators, and only when `webapp.network_control_url` is set
//! (`wa-dev` sets it to its bundled simulator).

use crate::auth::AuthUser;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use std::sync::OnceLock;
use std::time::Duration;
use wa_api::{ApiError, ErrorCode};

#[derive(Deserialize)]
pub struct After {
    #[serde(default)]
    after: u64,
}

pub async fn webhooks(
    caller: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<After>,
) -> Result<HttpResponse, ApiError> {
    let base = control_base(&caller, &state)?;
    let url = format!("{base}/control/webhooks?after={}", query.after);
    let answer: serde_json::Value = client()
        .get(&url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(unreachable)?
        .json()
        .await
        .map_err(unreachable)?;
    Ok(HttpResponse::Ok().json(answer))
}

/// The simulator's control address, for an administrator; the refusals every console call to
/// the simulator shares (the Phones page's calls too, phones.rs).
pub(super) fn control_base<'a>(
    caller: &AuthUser,
    state: &'a AppState,
) -> Result<&'a str, ApiError> {
    caller.require_admin()?;
    state
        .settings
        .webapp
        .network_control_url
        .as_deref()
        .map(|base| base.trim_end_matches('/'))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ResourceNotFound,
                "No simulated network is configured (webapp.network_control_url)",
            )
        })
}

pub(super) fn unreachable(e: reqwest::Error) -> ApiError {
    ApiError::internal(format!("The network's control API did not answer: {e}"))
}

pub(super) fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default()
    })
}
