//! The coreapp's statistics (spec onprem-rest §9.2–9.3, onprem-messaging §9.5).
//!
//! - [`CoreStats`] is counted in memory where things happen (the webhook dispatcher, inbound
//!   processing, sends, statuses, this RPC) and reset on restart, like the original's.
//! - `GET /v1/stats/app` serves it; `GET /v1/stats/db` counts the tables at the time of the call.
//!   The webapp relays both and turns them into Prometheus text when asked.
//! - The queue gauges are sampled from the database every [`QUEUE_SAMPLE_INTERVAL`]; the same
//!   samples decide the overload refusal (503/1016, spec §10).
//!
//! Names and help texts are in `wa_common::metrics`.

use prometheus::{IntCounter, IntCounterVec, IntGauge};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;
use wa_api::{ApiError, ErrorCode};
use wa_common::config::CoreappSettings;
use wa_common::metrics::{self as m, MetricSet};
use wa_store::Store;

/// How often the send queue and the webhook outbox are counted. Short enough for the overload
/// check to react within a second, long enough that two `COUNT(*)` a second cost nothing.
pub const QUEUE_SAMPLE_INTERVAL: Duration = Duration::from_secs(1);

/// `result` of a webhook POST the receiver answered 200 to.
const CALLBACK_SUCCESS: &str = "success";
/// `result` of a webhook POST that got no HTTP answer (refused, timed out, reset): the
/// original's error number for a transport failure.
pub const CALLBACK_TRANSPORT_ERROR: &str = "1";

pub struct CoreStats {
    set: MetricSet,
    /// When this coreapp started, for `internal_uptime_seconds`.
    started: std::time::Instant,
    callback_queue_size: IntGauge,
    callback_requests: IntCounterVec,
    callback_duration_count: IntCounter,
    callback_duration_sum: IntCounter,
    overload_refusals: IntCounter,
    /// Kept by the store; copied in when the statistics are read.
    db_ok_count: IntGauge,
    db_ok_micros: IntGauge,
    db_error_count: IntGauge,
    db_error_micros: IntGauge,
    endpoint_requests: IntCounterVec,
    endpoint_duration_count: IntCounterVec,
    endpoint_duration_sum: IntCounterVec,
    gateway_connected: IntGauge,
    /// Webhook POSTs with and without a 200 since the start (`callback_requests` summed by
    /// success), for the periodic stats line.
    callback_successes: IntCounter,
    callback_failures: IntCounter,
    in_from_server: IntCounter,
    in_persisted: IntCounter,
    out_persisted: IntCounter,
    out_sent_count: IntCounterVec,
    out_sent_sum: IntCounterVec,
    out_status: IntCounterVec,
    pending_callbacks: IntGauge,
    pending_messages: IntGauge,
}

impl CoreStats {
    /// Fails only if a definition in `wa_common::metrics` is invalid (its unit tests say not).
    pub fn new() -> Result<CoreStats, prometheus::Error> {
        let mut set = MetricSet::new();
        Ok(CoreStats {
            callback_queue_size: set.gauge(m::CALLBACK_QUEUE_SIZE)?,
            callback_requests: set.counter_vec(m::CALLBACK_REQUESTS)?,
            callback_duration_count: set.counter(m::CALLBACK_REQUESTS_DURATION_MS_COUNT)?,
            callback_duration_sum: set.counter(m::CALLBACK_REQUESTS_DURATION_MS_SUM)?,
            overload_refusals: set.counter(m::CONCURRENT_RATE_LIMIT_TRIGGERED)?,
            db_ok_count: set.gauge(m::DB_REQUEST_DURATION_US_COUNT)?,
            db_ok_micros: set.gauge(m::DB_REQUEST_DURATION_US_SUM)?,
            db_error_count: set.gauge(m::DB_REQUEST_ERROR_DURATION_US_COUNT)?,
            db_error_micros: set.gauge(m::DB_REQUEST_ERROR_DURATION_US_SUM)?,
            endpoint_requests: set.counter_vec(m::ENDPOINT_REQUESTS)?,
            endpoint_duration_count: set.counter_vec(m::ENDPOINT_REQUESTS_DURATION_MS_COUNT)?,
            endpoint_duration_sum: set.counter_vec(m::ENDPOINT_REQUESTS_DURATION_MS_SUM)?,
            gateway_connected: set.gauge(m::GATEWAY_CONNECTED)?,
            callback_successes: IntCounter::new("callback_successes", "not served")?,
            callback_failures: IntCounter::new("callback_failures", "not served")?,
            in_from_server: set.counter(m::IN_MESSAGE_FROM_SERVER)?,
            in_persisted: set.counter(m::IN_MESSAGE_PERSISTED)?,
            out_persisted: set.counter(m::OUT_MESSAGE_PERSISTED)?,
            out_sent_count: set.counter_vec(m::OUT_MESSAGE_SENT_DURATION_MS_COUNT)?,
            out_sent_sum: set.counter_vec(m::OUT_MESSAGE_SENT_DURATION_MS_SUM)?,
            out_status: set.counter_vec(m::OUT_MESSAGE_STATUS)?,
            pending_callbacks: set.gauge(m::PENDING_CALLBACKS)?,
            pending_messages: set.gauge(m::PENDING_MESSAGES)?,
            set,
            started: std::time::Instant::now(),
        })
    }

    /// One webhook POST finished: `result` is `success`, the HTTP status, or
    /// [`CALLBACK_TRANSPORT_ERROR`].
    pub fn callback_posted(&self, kind: &str, result: CallbackResult, elapsed: Duration) {
        if result == CallbackResult::Success {
            self.callback_successes.inc();
        } else {
            self.callback_failures.inc();
        }
        let result = match result {
            CallbackResult::Success => CALLBACK_SUCCESS.to_string(),
            CallbackResult::Status(status) => status.to_string(),
            CallbackResult::TransportError => CALLBACK_TRANSPORT_ERROR.to_string(),
        };
        m::add(&self.callback_requests, &[&result, kind], 1);
        self.callback_duration_count.inc();
        self.callback_duration_sum.inc_by(m::millis(elapsed));
    }

    /// A webhook POST is on its way; `pending_callbacks` counts it until the guard is dropped,
    /// however the POST ends.
    pub fn callback_in_flight(self: &Arc<Self>) -> InFlightCallback {
        self.pending_callbacks.inc();
        InFlightCallback {
            stats: Arc::clone(self),
        }
    }

    /// The network pushed a consumer's message.
    pub fn inbound_from_server(&self) {
        self.in_from_server.inc();
    }

    /// A consumer's message was stored for the first time (re-sent duplicates do not count).
    pub fn inbound_persisted(&self) {
        self.in_persisted.inc();
    }

    pub fn outbound_persisted(&self) {
        self.out_persisted.inc();
    }

    /// The network accepted an outbound message of `msg_type` after `retry` earlier attempts
    /// in this process, `elapsed` after it was handed over.
    pub fn outbound_accepted(&self, msg_type: &str, retry: u32, elapsed: Duration) {
        let retry = retry.to_string();
        let labels = [retry.as_str(), msg_type];
        m::add(&self.out_sent_count, &labels, 1);
        m::add(&self.out_sent_sum, &labels, m::millis(elapsed));
    }

    /// An outbound message moved to `status` (`sent`, `delivered`, `read`, `failed`).
    pub fn status_recorded(&self, status: &str) {
        m::add(&self.out_status, &[status], 1);
    }

    /// One call of this RPC answered; `result` is `ok` or the error code.
    pub fn endpoint_request(&self, endpoint: &str, result: &str, elapsed: Duration) {
        m::add(&self.endpoint_requests, &[endpoint, result], 1);
        m::add(&self.endpoint_duration_count, &[endpoint], 1);
        m::add(&self.endpoint_duration_sum, &[endpoint], m::millis(elapsed));
    }

    /// `gateway_connected`: follows the gateway status.
    pub fn set_gateway_connected(&self, connected: bool) {
        self.gateway_connected.set(i64::from(connected));
    }

    /// One log line with the signals operators alert on (docs/operations.md, "What to watch"):
    /// the gateway, both queues, and the failures since the start. In JSON logs its fields are
    /// numbers, so a log-based metric system (CloudWatch metric filters in the AWS template)
    /// can alarm on them without scraping anything.
    pub fn log_summary(&self, store: &Store) {
        tracing::info!(
            target: "wa_stats",
            gateway_connected = self.gateway_connected.get(),
            pending_messages = self.pending_messages.get(),
            callback_queue_size = self.callback_queue_size.get(),
            callback_successes = self.callback_successes.get(),
            callback_failures = self.callback_failures.get(),
            db_request_errors = store.query_timings().error_count,
            "stats"
        );
    }

    /// The latest counts of the webhook outbox and the send queue.
    pub fn set_queues(&self, callback_queue: i64, pending_messages: i64) {
        self.callback_queue_size.set(callback_queue);
        self.pending_messages.set(pending_messages);
    }

    /// 503/1016 while the send queue or the webhook outbox is at its configured limit, so
    /// clients slow down before the backlog grows without bound. Counted in
    /// `concurrent_rate_limit_triggered`.
    pub fn check_overload(&self, config: &CoreappSettings) -> Result<(), ApiError> {
        let at_limit = |value: i64, limit: u64| {
            limit > 0 && u64::try_from(value).is_ok_and(|value| value >= limit)
        };
        let pending = self.pending_messages.get();
        let callbacks = self.callback_queue_size.get();
        let details = if at_limit(pending, config.max_pending_messages) {
            format!("{pending} outbound messages are waiting to be sent; retry later")
        } else if at_limit(callbacks, config.max_callback_queue_size) {
            format!("{callbacks} webhooks are waiting to be delivered; retry later")
        } else {
            return Ok(());
        };
        self.overload_refusals.inc();
        tracing::warn!("request refused, system overloaded: {details}");
        Err(ApiError::new(ErrorCode::SystemOverloaded, details))
    }

    /// How long ago this coreapp started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// `stats.app` in the JSON model.
    pub fn app_json(&self, store: &Store) -> Map<String, Value> {
        let timings = store.query_timings();
        let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.db_ok_count.set(as_i64(timings.ok_count));
        self.db_ok_micros.set(as_i64(timings.ok_micros));
        self.db_error_count.set(as_i64(timings.error_count));
        self.db_error_micros.set(as_i64(timings.error_micros));
        let mut json = self.set.to_json();
        // This process's CPU, memory and descriptors; unlabelled like the counters above (in a
        // cluster the webapp nests each node's statistics under the node's key).
        json.extend(m::process_stats(&[]));
        json
    }
}

/// How a webhook POST ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackResult {
    /// HTTP 200, the only success.
    Success,
    /// Any other HTTP status.
    Status(u16),
    /// No HTTP answer at all.
    TransportError,
}

/// See [`CoreStats::callback_in_flight`].
pub struct InFlightCallback {
    stats: Arc<CoreStats>,
}

impl Drop for InFlightCallback {
    fn drop(&mut self) {
        self.stats.pending_callbacks.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(max_pending: u64, max_callbacks: u64) -> CoreappSettings {
        CoreappSettings {
            max_pending_messages: max_pending,
            max_callback_queue_size: max_callbacks,
            ..CoreappSettings::default()
        }
    }

    #[test]
    fn overload_refuses_at_either_limit_and_counts() {
        let stats = CoreStats::new().unwrap();
        stats.set_queues(99, 10);
        assert!(stats.check_overload(&config(11, 100)).is_ok());
        stats.set_queues(100, 10);
        let refused = stats.check_overload(&config(11, 100)).unwrap_err();
        assert_eq!((refused.status, refused.first_code()), (503, 1016));
        stats.set_queues(0, 11);
        assert!(stats.check_overload(&config(11, 100)).is_err());
        // 0 turns a check off.
        assert!(stats.check_overload(&config(0, 0)).is_ok());
        assert_eq!(stats.overload_refusals.get(), 2);
    }

    #[test]
    fn in_flight_callbacks_are_counted_until_dropped() {
        let stats = Arc::new(CoreStats::new().unwrap());
        let first = stats.callback_in_flight();
        let second = stats.callback_in_flight();
        assert_eq!(stats.pending_callbacks.get(), 2);
        drop(first);
        drop(second);
        assert_eq!(stats.pending_callbacks.get(), 0);
    }
}
