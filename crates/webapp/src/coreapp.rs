//! The webapp's side of the internal RPC to the coreapp.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use wa_api::health::GatewayStatus;
use wa_api::rpc::{Endpoint, GatewayStatusReply, Method};
use wa_api::ApiError;
use wa_common::config::WebappSettings;

tokio::task_local! {
    /// The id of the request being handled (set by `middleware::request_context`), passed on
    /// with every call made while handling it, so the coreapp's log lines carry it too.
    pub static CURRENT_REQUEST_ID: String;
    /// The caller's `Idempotency-Key` header while its call is relayed (`routes::forward`),
    /// passed on to the coreapp, which honours it on `POST /v1/messages`.
    pub static RELAYED_IDEMPOTENCY_KEY: Option<reqwest::header::HeaderValue>;
}

pub struct CoreappClient {
    http: reqwest::Client,
    base_url: String,
    /// `host:port`, quoted in errors the way the original did.
    address: String,
    /// Number and total milliseconds of calls, for `api_requests_coreapp_duration_ms_*`.
    calls: AtomicU64,
    calls_ms: AtomicU64,
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
            calls: AtomicU64::new(0),
            calls_ms: AtomicU64::new(0),
        })
    }

    /// `host:port` of the coreapp (the `app` label of the coreapp call statistics).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// How many calls were made to the coreapp, and their total duration in milliseconds.
    pub fn call_totals(&self) -> (u64, u64) {
        (
            self.calls.load(Ordering::Relaxed),
            self.calls_ms.load(Ordering::Relaxed),
        )
    }

    /// Counts one call, answered or not, from `started` until now.
    fn count_call(&self, started: Instant) {
        let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.calls_ms.fetch_add(elapsed, Ordering::Relaxed);
    }

    pub async fn gateway_status(&self) -> Result<GatewayStatus, ApiError> {
        let reply: GatewayStatusReply = self.get_json(Endpoint::GatewayStatus.path()).await?;
        Ok(reply.gateway_status)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let started = Instant::now();
        let answer = self.get_json_untimed(path).await;
        self.count_call(started);
        answer
    }

    async fn get_json_untimed<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, ApiError> {
        let url = format!("{}{}", self.base_url, path);
        let response = with_request_id(self.http.get(&url))
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        if !response.status().is_success() {
            return Err(self.failure(&format!("coreapp answered {}", response.status())));
        }
        response.json().await.map_err(|e| self.unreachable(&e))
    }

    fn unreachable(&self, err: &reqwest::Error) -> ApiError {
        unreachable_at(err, &self.address)
    }

    fn failure(&self, what: &str) -> ApiError {
        failure_at(what, &self.address)
    }
}

fn unreachable_at(err: &reqwest::Error, address: &str) -> ApiError {
    let what = if err.is_timeout() {
        "Communication failure: timeout".to_string()
    } else if err.is_connect() {
        "Connection refused".to_string()
    } else {
        format!("Communication failure: {err}")
    };
    failure_at(&what, address)
}

fn failure_at(what: &str, address: &str) -> ApiError {
    ApiError::internal(format!(
        "{what}. Please check if wacore is running: {address}"
    ))
}

/// The coreapp's answer to a forwarded call: its status and its envelope body, relayed as-is.
pub struct Forwarded {
    pub status: u16,
    pub body: serde_json::Value,
}

impl CoreappClient {
    /// Forwards a public API call to the coreapp, which serves the same path and method on its
    /// internal listener and answers with a complete envelope (payload or `errors`, and `meta`).
    /// The webapp has already authenticated the caller and checked the role and the JSON syntax.
    pub async fn forward(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Forwarded, ApiError> {
        let started = Instant::now();
        let answer = self
            .forward_untimed(&self.base_url, method, path_and_query, body)
            .await
            .map_err(|e| self.unreachable(&e));
        self.count_call(started);
        answer
    }

    /// Forwards a call to the node of a cluster at `address` (`host:port`) instead of the
    /// configured coreapp (cluster.rs picks the node).
    pub async fn forward_at(
        &self,
        address: &str,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Forwarded, ApiError> {
        let started = Instant::now();
        let base_url = format!("http://{address}");
        let answer = self
            .forward_untimed(&base_url, method, path_and_query, body)
            .await
            .map_err(|e| unreachable_at(&e, address));
        self.count_call(started);
        answer
    }

    /// Calls an internal endpoint of the coreapp (`/rpc/...`) with its method from the table.
    pub async fn call(
        &self,
        endpoint: Endpoint,
        body: Option<&serde_json::Value>,
    ) -> Result<Forwarded, ApiError> {
        self.forward(http_method(endpoint.method()), endpoint.path(), body)
            .await
    }

    async fn forward_untimed(
        &self,
        base_url: &str,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Forwarded, reqwest::Error> {
        let url = format!("{base_url}{path_and_query}");
        let mut request = with_request_id(self.http.request(method, &url));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let body = response.json::<serde_json::Value>().await?;
        Ok(Forwarded { status, body })
    }
}

/// Passes the id of the request being handled on, so the coreapp logs under the same id, and
/// the caller's idempotency key when the call is a relayed one.
fn with_request_id(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    let request = match CURRENT_REQUEST_ID.try_with(String::clone) {
        Ok(id) => request.header(wa_api::rpc::REQUEST_ID_HEADER, id),
        Err(_outside_a_request) => request,
    };
    match RELAYED_IDEMPOTENCY_KEY.try_with(Clone::clone) {
        Ok(Some(key)) => request.header(wa_api::idempotency::IDEMPOTENCY_KEY_HEADER, key),
        _ => request,
    }
}

/// The HTTP method of a row of the route table.
pub fn http_method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    }
}
