//! Per-request housekeeping: the `X-Request-ID` (32 lower-case hex, or the caller's own when it is
//! sane), the original's `Cache-Control`, a tracing span, one access-log line, and the request
//! metrics of `GET /metrics`.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CACHE_CONTROL};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use std::time::Instant;
use tracing::Instrument;
use wa_common::metrics::request_label;

use crate::routes::monitoring::WebMetrics;

pub use wa_api::rpc::REQUEST_ID_HEADER;

/// The request id of the current request, available to handlers through extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_acceptable_id(id))
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let span = tracing::info_span!("request", id = %request_id);
    let method = req.method().clone();
    let path = req.path().to_owned();
    // The TCP peer, or the client a load balancer named (see client_addr and proxy_protocol).
    let client = match req.peer_addr() {
        Some(_) => crate::client_addr::client_ip(req.request()).to_string(),
        None => "-".to_string(),
    };
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<WebMetrics>>().cloned();
    let ongoing = metrics.as_ref().map(|metrics| metrics.request_started());
    let mut response = crate::coreapp::CURRENT_REQUEST_ID
        .scope(request_id.clone(), next.call(req).instrument(span.clone()))
        .await?;
    drop(ongoing);
    if let Some(metrics) = &metrics {
        // The route template, not the raw path, so ids in paths do not multiply the series.
        let template = response.request().match_pattern();
        metrics.request_finished(
            &request_label(method.as_str(), template.as_deref()),
            response.status().as_u16(),
            started.elapsed(),
        );
    }
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache, private"));
    }
    span.in_scope(|| {
        tracing::info!(
            target: "webapp::access",
            %client,
            %method,
            %path,
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
        )
    });
    Ok(response)
}

/// Client-supplied ids end up in logs: keep them short and free of control characters.
fn is_acceptable_id(id: &str) -> bool {
    wa_api::rpc::is_acceptable_request_id(id)
}
