//! What consumers' apps can display, asked of the network when a send needs it. A template with
//! buttons to an app that cannot show them is refused synchronously with 501/2013, as the spec's
//! table has it (spec onprem-messaging §8.3).
//!
//! Answers are cached for [`CACHE_TTL`]: apps change rarely, and most template sends to a
//! recipient then cost no round trip. A recipient whose app changed meanwhile, or a lookup the
//! network could not answer, is not refused here: the network checks again at delivery and
//! reports a `failed` status with 2013.

use crate::state::CoreState;
use wa_api::{ApiError, ErrorCode};
use wa_netproto::{Request, Response};

/// Refuses a template with buttons to `wa_id` when the recipient's app cannot display them.
pub async fn require_template_buttons(state: &CoreState, wa_id: &str) -> Result<(), ApiError> {
    let shows = match state.capabilities.get(wa_id) {
        Some(shows) => shows,
        None => match ask(state, wa_id).await {
            Ok(shows) => {
                state.capabilities.put(wa_id, shows);
                shows
            }
            Err(e) => {
                tracing::warn!("capabilities of {wa_id} unknown, the network decides: {e}");
                true
            }
        },
    };
    if shows {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::TemplateButtonsUnsupported,
            "The recipient's WhatsApp cannot display the buttons of this template.",
        ))
    }
}

async fn ask(state: &CoreState, wa_id: &str) -> Result<bool, String> {
    let session = state
        .session()
        .filter(|_| state.is_ready())
        .ok_or("not connected to the network")?;
    let request = Request::GetCapabilities {
        wa_id: wa_id.to_string(),
    };
    match session.request(request).await {
        Ok(Response::Capabilities {
            template_buttons, ..
        }) => Ok(template_buttons),
        Ok(other) => Err(format!("unexpected answer: {other:?}")),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use crate::state::caches::CapabilityCache;

    #[test]
    fn answers_are_cached_per_recipient() {
        let cache = CapabilityCache::default();
        assert_eq!(cache.get("16315550100"), None);
        cache.put("16315550100", false);
        cache.put("16315550101", true);
        assert_eq!(cache.get("16315550100"), Some(false));
        assert_eq!(cache.get("16315550101"), Some(true));
    }
}
