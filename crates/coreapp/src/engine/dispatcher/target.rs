//! Where each target's webhooks go and in which shape: the On-Prem URL with On-Prem's bodies,
//! or the Cloud subscription with Cloud's envelope, signed with the app secret.

use std::sync::Arc;
use std::time::Duration;

use wa_api::cloud::subscription::CloudWebhooks;
use wa_api::cloud::webhooks::cloud_body;
use wa_api::settings::ApplicationSettings;
use wa_api::webhooks::{CallbackKind, WebhookTarget};

/// Where and how the next POSTs go, taken from the settings each round.
#[derive(Clone)]
pub(super) struct Target {
    pub kind: WebhookTarget,
    pub url: String,
    pub max_in_flight: usize,
    pub backoff: (Duration, Duration),
    /// Signs each body (`X-Hub-Signature-256`): always for Cloud, for On-Prem when asked.
    pub secret: Option<Arc<[u8]>>,
    /// The registered number, for the Cloud envelope's `metadata` and ids.
    pub business: String,
}

/// What a target needs besides the application settings.
#[derive(Clone, Default)]
pub(super) struct TargetContext {
    pub subscription: CloudWebhooks,
    pub app_secret: Option<Arc<[u8]>>,
    pub business: Option<String>,
}

impl Target {
    /// `None` while the target has nowhere to post (no URL, no subscription, or for Cloud no
    /// registered number or app secret yet): its rows wait.
    pub fn of(
        kind: WebhookTarget,
        settings: &ApplicationSettings,
        context: &TargetContext,
    ) -> Option<Target> {
        let (url, secret) = match kind {
            WebhookTarget::OnPrem => (
                settings.webhook_url()?.to_string(),
                context
                    .app_secret
                    .clone()
                    .filter(|_| context.subscription.sign_onprem_webhooks),
            ),
            WebhookTarget::Cloud => (
                context.subscription.callback_url.clone()?,
                Some(context.app_secret.clone()?),
            ),
        };
        let business = match kind {
            WebhookTarget::OnPrem => String::new(),
            WebhookTarget::Cloud => context.business.clone()?,
        };
        Some(Target {
            kind,
            url,
            max_in_flight: settings.max_concurrent_callbacks(),
            backoff: settings.callback_backoff(),
            secret,
            business,
        })
    }

    /// The body to post for a stored (On-Prem) body of `kind`; `None` when the Cloud envelope
    /// cannot be made from it (a row this version cannot read): it is dropped, not retried
    /// forever.
    pub fn body(&self, kind: &str, stored: &str) -> Option<String> {
        match self.kind {
            WebhookTarget::OnPrem => Some(stored.to_string()),
            WebhookTarget::Cloud => {
                let kind = CallbackKind::parse(kind)?;
                let onprem: serde_json::Value = serde_json::from_str(stored).ok()?;
                cloud_body(kind, &onprem, &self.business).map(|body| body.to_string())
            }
        }
    }
}
