//! The webapp's side of the internal RPC to the coreapp.

use std::time::Duration;
use wa_api::health::GatewayStatus;
use wa_api::rpc::{GatewayStatusReply, GATEWAY_STATUS_PATH};
use wa_api::ApiError;
use wa_common::config::WebappSettings;

pub struct CoreappClient {
    http: reqwest::Client,
    base_url: String,
    /// `host:port`, quoted in errors the way the original did.
    address: String,
}

impl CoreappClient {
    pub fn new(settings: &WebappSettings) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(settings.coreapp_timeout_secs))
            .build()?;
        Ok(CoreappClient {
            http,
            base_url: settings.coreapp_base_url(),
            address: format!("{}:{}", settings.coreapp_host, settings.coreapp_port),
        })
    }

    pub async fn gateway_status(&self) -> Result<GatewayStatus, ApiError> {
        let reply: GatewayStatusReply = self.get_json(GATEWAY_STATUS_PATH).await?;
        Ok(reply.gateway_status)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let url = format!("{}{}", self.base_url, path);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        if !response.status().is_success() {
            return Err(self.failure(&format!("coreapp answered {}", response.status())));
        }
        response.json().await.map_err(|e| self.unreachable(&e))
    }

    fn unreachable(&self, err: &reqwest::Error) -> ApiError {
        let what = if err.is_timeout() {
            "Communication failure: timeout".to_string()
        } else if err.is_connect() {
            "Connection refused".to_string()
        } else {
            format!("Communication failure: {err}")
        };
        self.failure(&what)
    }

    fn failure(&self, what: &str) -> ApiError {
        ApiError::internal(format!(
            "{what}. Please check if wacore is running: {}",
            self.address
        ))
    }
}
