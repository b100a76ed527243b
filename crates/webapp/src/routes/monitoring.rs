//! `GET /metrics` (this webapp's own metrics, spec onprem-rest §9.4) and `GET /v1/stats/app`,
//! `GET /v1/stats/db` (the coreapp's, relayed, §9.2–9.3). All take a bearer token of any user or
//! the monitoring API key, answer JSON, and Prometheus text with `?format=prometheus`.
//!
//! The text is always made from the JSON by `wa_common::metrics::prometheus_text`, as the
//! original's webapp did, so both forms show the same numbers under the same names.

use crate::auth::MonitoringCaller;
use crate::cluster::fanout::{self, Report};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use prometheus::{IntCounterVec, IntGaugeVec};
use serde_json::{Map, Value};
use std::time::{Duration, Instant};
use wa_api::envelope::payload;
use wa_api::{ApiError, Meta};
use wa_common::metrics::{self as m, MetricSet};

/// The webapp's counters, shared by every worker; fed by `middleware::request_context`.
pub struct WebMetrics {
    set: MetricSet,
    /// The `node` label: `WEBAPP_HOSTNAME`, else the host name.
    node: String,
    started: Instant,
    uptime: IntGaugeVec,
    ongoing: IntGaugeVec,
    handled: IntCounterVec,
    api_count: IntCounterVec,
    api_ms: IntCounterVec,
    /// Kept by `CoreappClient`; copied in when read.
    coreapp_count: IntGaugeVec,
    coreapp_ms: IntGaugeVec,
}

impl WebMetrics {
    /// Fails only if a definition in `wa_common::metrics` is invalid (its unit tests say not).
    pub fn new() -> Result<WebMetrics, prometheus::Error> {
        let mut set = MetricSet::new();
        let metrics = WebMetrics {
            uptime: set.gauge_vec(m::WEB_UPTIME)?,
            ongoing: set.gauge_vec(m::WEB_REQUESTS)?,
            handled: set.counter_vec(m::WEB_HANDLED_REQUESTS)?,
            api_count: set.counter_vec(m::API_REQUESTS_DURATION_MS_COUNT)?,
            api_ms: set.counter_vec(m::API_REQUESTS_DURATION_MS_SUM)?,
            coreapp_count: set.gauge_vec(m::API_REQUESTS_COREAPP_DURATION_MS_COUNT)?,
            coreapp_ms: set.gauge_vec(m::API_REQUESTS_COREAPP_DURATION_MS_SUM)?,
            set,
            node: node_name(),
            started: Instant::now(),
        };
        // Present from the start, so a scrape before the first request shows 0, not nothing.
        m::set(
            &metrics.ongoing,
            &[&metrics.node, m::STATE_HANDLE_REQUEST],
            0,
        );
        Ok(metrics)
    }

    /// A request is being handled until the returned guard is dropped, however it ends.
    pub fn request_started(&self) -> OngoingRequest<'_> {
        m::shift(&self.ongoing, &[&self.node, m::STATE_HANDLE_REQUEST], 1);
        OngoingRequest { metrics: self }
    }

    /// A request was answered: `method` is its `VERB_route_template` label.
    pub fn request_finished(&self, method: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        let labels = [self.node.as_str(), status.as_str(), method];
        m::add(&self.handled, &[&self.node], 1);
        m::add(&self.api_count, &labels, 1);
        m::add(&self.api_ms, &labels, m::millis(elapsed));
    }

    /// `metrics` in the JSON model: the counters above, then the `process_*` statistics.
    pub fn to_json(&self, state: &AppState) -> Map<String, Value> {
        let uptime = i64::try_from(self.started.elapsed().as_secs()).unwrap_or(i64::MAX);
        m::set(&self.uptime, &[&self.node], uptime);
        let (calls, calls_ms) = state.coreapp.call_totals();
        let app = [state.coreapp.address()];
        m::set(
            &self.coreapp_count,
            &app,
            i64::try_from(calls).unwrap_or(i64::MAX),
        );
        m::set(
            &self.coreapp_ms,
            &app,
            i64::try_from(calls_ms).unwrap_or(i64::MAX),
        );
        let mut json = self.set.to_json();
        // This process's CPU, memory and descriptors, under the same `node` label.
        json.extend(m::process_stats(&[("node", &self.node)]));
        json
    }
}

/// See [`WebMetrics::request_started`].
pub struct OngoingRequest<'a> {
    metrics: &'a WebMetrics,
}

impl Drop for OngoingRequest<'_> {
    fn drop(&mut self) {
        let labels = [self.metrics.node.as_str(), m::STATE_HANDLE_REQUEST];
        m::shift(&self.metrics.ongoing, &labels, -1);
    }
}

/// `WEBAPP_HOSTNAME` as the original read it, else the host name (in a container: its id).
fn node_name() -> String {
    let from_env = |name: &str| std::env::var(name).ok();
    let from_file = |path: &str| std::fs::read_to_string(path).ok();
    [
        from_env("WEBAPP_HOSTNAME"),
        from_env("HOSTNAME"),
        from_file("/proc/sys/kernel/hostname"),
        from_file("/etc/hostname"),
    ]
    .into_iter()
    .flatten()
    .map(|name| name.trim().to_string())
    .find(|name| !name.is_empty())
    .unwrap_or_else(|| "localhost".to_string())
}

/// True for `?format=prometheus`; any other value (or none) means JSON.
fn wants_prometheus(req: &HttpRequest) -> bool {
    req.query_string().split('&').any(|pair| {
        pair.split_once('=').is_some_and(|(key, value)| {
            key == "format" && value.eq_ignore_ascii_case(m::PROMETHEUS_FORMAT)
        })
    })
}

fn prometheus_response(status: StatusCode, stats: Option<&Map<String, Value>>) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(m::PROMETHEUS_CONTENT_TYPE)
        .body(stats.map(m::prometheus_text).unwrap_or_default())
}

/// `GET /metrics`.
pub async fn metrics(
    req: HttpRequest,
    _caller: MonitoringCaller,
    state: web::Data<AppState>,
    metrics: Option<web::Data<WebMetrics>>,
) -> Result<HttpResponse, ApiError> {
    let metrics = metrics.ok_or_else(|| ApiError::internal("metrics are not set up"))?;
    let json = metrics.to_json(&state);
    if wants_prometheus(&req) {
        return Ok(prometheus_response(StatusCode::OK, Some(&json)));
    }
    Ok(HttpResponse::Ok().json(payload("metrics", json, Meta::current_webapp())))
}

/// `GET /v1/stats/app`.
pub async fn stats_app(
    req: HttpRequest,
    _caller: MonitoringCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    relay_stats(&req, &state, "/v1/stats/app", "/stats/app").await
}

/// `GET /v1/stats/app/internal`: the coreapp's diagnostics, under `stats.app.internal`.
pub async fn stats_app_internal(
    req: HttpRequest,
    _caller: MonitoringCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let path = wa_api::rpc::Endpoint::StatsAppInternal.path();
    relay_stats(&req, &state, path, "/stats/app/internal").await
}

/// `GET /v1/stats/db/internal`: rows per table and the engine, under `stats.db.internal`.
pub async fn stats_db_internal(
    req: HttpRequest,
    _caller: MonitoringCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let path = wa_api::rpc::Endpoint::StatsDbInternal.path();
    relay_stats(&req, &state, path, "/stats/db/internal").await
}

/// `GET /v1/stats/db`.
pub async fn stats_db(
    req: HttpRequest,
    _caller: MonitoringCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    relay_stats(&req, &state, "/v1/stats/db", "/stats/db").await
}

/// `GET /v1/support` (spec §9.5): the coreapp's diagnostic bundle, relayed.
pub async fn support(
    req: HttpRequest,
    _caller: MonitoringCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if let Some(cluster) = &state.cluster {
        let nodes = fanout::nested(cluster, &state.coreapp, Report::Support).await?;
        return Ok(HttpResponse::Ok().json(payload("support", nodes, Meta::current_coreapp())));
    }
    crate::routes::forward::to_coreapp(&req, &state, None).await
}

/// Asks the coreapp for `path`; relays its JSON, or converts the statistics at JSON pointer
/// `section` (`/stats/app`, ...) to Prometheus text. In text form a failure has an empty body (the original printed nothing rather than an
/// error object) and its own status, so a scraper marks the target down.
async fn relay_stats(
    req: &HttpRequest,
    state: &AppState,
    path: &'static str,
    section: &str,
) -> Result<HttpResponse, ApiError> {
    let prometheus = wants_prometheus(req);
    if let (Some(cluster), false) = (&state.cluster, prometheus) {
        // JSON in a cluster: every node's statistics under its key (the text form below
        // still shows the node the webapp is configured with).
        let nodes = fanout::nested(cluster, &state.coreapp, Report::Stats(path)).await?;
        return Ok(HttpResponse::Ok().json(payload("stats", nodes, Meta::current_coreapp())));
    }
    let answer = match state
        .coreapp
        .forward(reqwest::Method::GET, path, None)
        .await
    {
        Ok(answer) => answer,
        Err(error) if prometheus => {
            tracing::warn!("{path} failed: {error}");
            let status =
                StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Ok(prometheus_response(status, None));
        }
        Err(error) => return Err(error),
    };
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if !prometheus {
        return Ok(HttpResponse::build(status).json(answer.body));
    }
    let stats = answer.body.pointer(section).and_then(Value::as_object);
    if !status.is_success() || stats.is_none() {
        tracing::warn!("{path} answered {status}: {}", answer.body);
        let status = if status.is_success() {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            status
        };
        return Ok(prometheus_response(status, None));
    }
    Ok(prometheus_response(status, stats))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn format_parameter_selects_prometheus() {
        let with = |query: &str| wants_prometheus(&TestRequest::with_uri(query).to_http_request());
        assert!(with("/metrics?format=prometheus"));
        assert!(with("/metrics?x=1&format=Prometheus"));
        assert!(!with("/metrics"));
        assert!(!with("/metrics?format=json"));
        assert!(!with("/metrics?formats=prometheus"));
    }

    #[test]
    fn ongoing_requests_go_up_and_down() {
        let metrics = WebMetrics::new().unwrap();
        let ongoing = |metrics: &WebMetrics| {
            metrics
                .ongoing
                .with_label_values(&[&metrics.node, m::STATE_HANDLE_REQUEST])
                .get()
        };
        let first = metrics.request_started();
        let second = metrics.request_started();
        assert_eq!(ongoing(&metrics), 2);
        drop(first);
        drop(second);
        assert_eq!(ongoing(&metrics), 0);
        metrics.request_finished("GET_v1_users_username", 200, Duration::from_millis(7));
        let json = Value::Object(metrics.set.to_json());
        let sample = &json["api_requests_duration_ms_sum"]["data"][0];
        assert_eq!(sample["labels"]["method"], "GET_v1_users_username");
        assert_eq!(sample["labels"]["result"], "200");
        assert_eq!(sample["value"], 7);
        assert_eq!(json["web_handled_requests"]["data"][0]["value"], 1);
    }
}
