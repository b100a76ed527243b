//! The Cloud API webhook subscription as the coreapp keeps it (`keys::CLOUD_WEBHOOKS`), and the
//! internal call that changes it. `POST /{version}/{waba-id}/subscribed_apps` with an
//! `override_callback_uri` subscribes (after the callback answered the verification request);
//! `DELETE` unsubscribes. The app secret that signs the bodies is a generated secret
//! (`keys::CLOUD_APP_SECRET`), never part of this value.

use serde::{Deserialize, Serialize};

/// Where Cloud webhooks go, and whether On-Prem webhooks are signed too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudWebhooks {
    /// The subscribed callback; `None` while no app is subscribed (no Cloud webhook is queued).
    #[serde(default)]
    pub callback_url: Option<String>,
    /// The verify token the callback was verified with, as the integration chose it; kept (sealed
    /// at rest) so an administrator can read it back, as Meta's app dashboard shows it.
    #[serde(default)]
    pub verify_token: Option<String>,
    /// An extension: On-Prem webhooks carry `X-Hub-Signature-256` as well, with the same secret.
    #[serde(default)]
    pub sign_onprem_webhooks: bool,
}

impl CloudWebhooks {
    /// The stored JSON; unreadable text counts as no subscription (it is only ever written by
    /// us, so this is a damaged row, not input).
    pub fn parse(stored: &str) -> CloudWebhooks {
        serde_json::from_str(stored).unwrap_or_default()
    }

    pub fn subscribed(&self) -> bool {
        self.callback_url.is_some()
    }
}

/// The body of the internal call that changes the subscription (`Endpoint::CloudWebhooksSet`):
/// each field present is changed. A new `callback_url` is verified with `verify_token` first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudWebhooksChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_onprem_webhooks: Option<bool>,
}

/// What the internal calls answer: the subscription and the app secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudWebhooksView {
    #[serde(flatten)]
    pub webhooks: CloudWebhooks,
    pub app_secret: String,
}
