//! The message templates the coreapp knows: loaded from the network at initialization, fetched
//! again when older than `template_refresh_secs` and when a send names one it does not know
//! (at most once a second, so a client naming unknown templates cannot flood the network).
//! Sends are hydrated against them before the API answers 201 (spec onprem-messaging §6).
//! The cache itself is `state::caches::TemplateCache`; `GET /v1/templates` is in `api`.

use crate::domain::outbound::template::TemplateSend;
use crate::state::CoreState;
use std::time::Duration;
use wa_api::{ApiError, ErrorCode};
use wa_netproto::templates::{has_buttons, hydrate, select, HydrationError, Template};
use wa_netproto::{Request, Response};

/// Fetches the templates from the network into the cache.
pub async fn refresh(state: &CoreState) -> Result<usize, String> {
    let session = state
        .session()
        .filter(|_| state.is_ready())
        .ok_or("not connected to the network")?;
    match session.request(Request::GetTemplates).await {
        Ok(Response::Templates { templates }) => Ok(state.templates.replace(templates)),
        Ok(other) => Err(format!(
            "unexpected answer to the template request: {other:?}"
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// A template send that matches its template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hydrated {
    pub text: String,
    /// Whether the template has buttons, which some recipients' apps cannot display (2013).
    pub has_buttons: bool,
}

/// Checks a template send against its template.
pub async fn check(state: &CoreState, send: &TemplateSend) -> Result<Hydrated, ApiError> {
    let max_age = Duration::from_secs(state.config.template_refresh_secs);
    if state.templates.is_stale(max_age) {
        if let Err(e) = refresh(state).await {
            tracing::warn!("refreshing message templates failed: {e}");
        }
    }
    match hydrate_with(&state.templates.snapshot(), send) {
        Err(e) if is_miss(&e) && state.templates.may_refresh_on_miss() => {
            if let Err(reason) = refresh(state).await {
                tracing::warn!("fetching message templates after a miss failed: {reason}");
                return Err(ApiError::new(
                    ErrorCode::TemplateFetchFailed,
                    format!(
                        "Could not fetch the language pack for '{}': {reason}",
                        send.language
                    ),
                ));
            }
            hydrate_with(&state.templates.snapshot(), send).map_err(to_api_error)
        }
        other => other.map_err(to_api_error),
    }
}

fn hydrate_with(templates: &[Template], send: &TemplateSend) -> Result<Hydrated, HydrationError> {
    let template = select(
        templates,
        &send.namespace,
        &send.name,
        &send.language,
        send.policy,
    )?;
    Ok(Hydrated {
        text: hydrate(template, &send.components)?,
        has_buttons: has_buttons(template),
    })
}

/// Misses a refresh may cure: unknown namespace, element or language pack.
fn is_miss(error: &HydrationError) -> bool {
    matches!(error.code, 1009 | 2001 | 2003)
}

fn to_api_error(error: HydrationError) -> ApiError {
    let code = ErrorCode::from_code(error.code).unwrap_or(ErrorCode::GenericError);
    ApiError::new(code, error.details)
}
