//! The message templates the coreapp knows: loaded from the network at initialization, fetched
//! again when older than `template_refresh_secs` and when a send names one it does not know
//! (at most once a second, so a client naming unknown templates cannot flood the network).
//! Sends are hydrated against them before the API answers 201 (spec onprem-messaging §6).
//!
//! `GET /v1/templates` is an EXTENSION (not On-Prem): it lists what the coreapp knows.

use crate::outbound::template::TemplateSend;
use crate::CoreState;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use std::sync::RwLock;
use std::time::{Duration, Instant};
use wa_api::envelope::payload;
use wa_api::{ApiError, ErrorCode, Meta};
use wa_netproto::templates::{has_buttons, hydrate, select, HydrationError, Template};
use wa_netproto::{Request, Response};

/// Shortest interval between two refreshes caused by misses.
const MISS_REFRESH_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct TemplateCache {
    inner: RwLock<Cached>,
}

#[derive(Default)]
struct Cached {
    templates: Vec<Template>,
    loaded_at: Option<Instant>,
    last_miss_refresh: Option<Instant>,
}

impl TemplateCache {
    /// Replaces the known templates with what the network served; malformed entries are skipped.
    pub fn replace(&self, served: Vec<Value>) -> usize {
        let templates: Vec<Template> = served
            .into_iter()
            .filter_map(|t| serde_json::from_value(t).ok())
            .collect();
        let count = templates.len();
        let mut cached = self.inner.write().unwrap_or_else(|e| e.into_inner());
        cached.templates = templates;
        cached.loaded_at = Some(Instant::now());
        count
    }

    pub fn snapshot(&self) -> Vec<Template> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .templates
            .clone()
    }

    fn is_stale(&self, max_age: Duration) -> bool {
        let cached = self.inner.read().unwrap_or_else(|e| e.into_inner());
        cached.loaded_at.is_none_or(|at| at.elapsed() >= max_age)
    }

    /// True (and noted) when a miss may trigger a refresh now.
    fn may_refresh_on_miss(&self) -> bool {
        let mut cached = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let allowed = cached
            .last_miss_refresh
            .is_none_or(|at| at.elapsed() >= MISS_REFRESH_INTERVAL);
        if allowed {
            cached.last_miss_refresh = Some(Instant::now());
        }
        allowed
    }
}

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

/// Keeps the templates fresh while connected, so edits in WhatsApp Manager (the simulator's
/// control API) show up without a send having to miss first.
pub async fn refresh_periodically(state: std::sync::Arc<CoreState>) {
    let interval = Duration::from_secs(state.config.template_refresh_secs.max(1));
    loop {
        tokio::time::sleep(interval).await;
        if state.is_ready() && state.templates.is_stale(interval) {
            match refresh(&state).await {
                Ok(count) => tracing::debug!("{count} message templates refreshed"),
                Err(e) => tracing::warn!("refreshing message templates failed: {e}"),
            }
        }
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

/// `GET /v1/templates` (EXTENSION): the templates the coreapp knows, refreshed when stale.
pub async fn list(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    let max_age = Duration::from_secs(state.config.template_refresh_secs);
    if state.templates.is_stale(max_age) {
        if let Err(e) = refresh(&state).await {
            tracing::debug!("template list served from the cache: {e}");
        }
    }
    let templates: Vec<Value> = state
        .templates
        .snapshot()
        .into_iter()
        .map(|t| {
            json!({
                "namespace": t.namespace, "name": t.name, "language": t.language,
                "status": t.status, "category": t.category, "components": t.components,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(payload("templates", templates, Meta::current_coreapp())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_templates_are_skipped() {
        let cache = TemplateCache::default();
        let served = vec![
            json!({"namespace": "ns", "name": "a", "language": "en", "status": "APPROVED"}),
            json!({"name": "no namespace"}),
        ];
        assert_eq!(cache.replace(served), 1);
        assert!(!cache.is_stale(Duration::from_secs(60)));
        assert!(cache.may_refresh_on_miss());
        assert!(!cache.may_refresh_on_miss());
    }
}
