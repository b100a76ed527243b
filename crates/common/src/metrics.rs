//! Every statistic the services report, in one place: names, types, help texts and label names
//! (spec onprem-rest §9.2–9.4), the JSON model they are served in, and the converter from that
//! JSON to the Prometheus text format.
//!
//! The services count with the `prometheus` crate's atomic counters and gauges, registered in a
//! [`MetricSet`]. What clients see is always built from a [`MetricDef`] here, so a name or a help
//! text is written exactly once. The JSON model is the original's:
//!
//! ```json
//! {"callback_queue_size": {"type": "gauge", "help": "Current callback queue size",
//!                          "data": [{"value": 450}]}}
//! ```
//!
//! and `?format=prometheus` is produced from that JSON by [`prometheus_text`], following the
//! original converter's rules, so both forms always agree.

use prometheus::core::Collector;
use prometheus::proto::{MetricFamily, MetricType};
use prometheus::{IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};
use serde_json::{json, Map, Number, Value};

mod process;
mod text;
pub use process::process_stats;
pub use text::prometheus_text;

/// `Content-Type` of the Prometheus text exposition format.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// The query parameter value (`?format=prometheus`) that selects the text format.
pub const PROMETHEUS_FORMAT: &str = "prometheus";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
}

impl MetricKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
        }
    }
}

/// One statistic as clients see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricDef {
    pub name: &'static str,
    pub kind: MetricKind,
    pub help: &'static str,
    /// Label names, in the order values are passed when counting.
    pub labels: &'static [&'static str],
}

const fn counter(
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
) -> MetricDef {
    MetricDef {
        name,
        kind: MetricKind::Counter,
        help,
        labels,
    }
}

const fn gauge(
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
) -> MetricDef {
    MetricDef {
        name,
        kind: MetricKind::Gauge,
        help,
        labels,
    }
}

// ---- coreapp: `GET /v1/stats/app` (in memory, reset on restart) ------------------------------

pub const CALLBACK_QUEUE_SIZE: MetricDef =
    gauge("callback_queue_size", "Current callback queue size", &[]);
pub const CALLBACK_REQUESTS: MetricDef = counter(
    "callback_requests",
    "Total number of callback requests made",
    &["result", "type"],
);
pub const CALLBACK_REQUESTS_DURATION_MS_COUNT: MetricDef = counter(
    "callback_requests_duration_ms_count",
    "Total number of callback requests timed",
    &[],
);
pub const CALLBACK_REQUESTS_DURATION_MS_SUM: MetricDef = counter(
    "callback_requests_duration_ms_sum",
    "Total duration of callback requests in milliseconds",
    &[],
);
pub const CONCURRENT_RATE_LIMIT_TRIGGERED: MetricDef = counter(
    "concurrent_rate_limit_triggered",
    "Total number of requests refused because the system was overloaded",
    &[],
);
pub const DB_REQUEST_DURATION_US_COUNT: MetricDef = counter(
    "db_request_duration_us_count",
    "Total number of successful database requests",
    &[],
);
pub const DB_REQUEST_DURATION_US_SUM: MetricDef = counter(
    "db_request_duration_us_sum",
    "Total duration of successful database requests in microseconds",
    &[],
);
pub const DB_REQUEST_ERROR_DURATION_US_COUNT: MetricDef = counter(
    "db_request_error_duration_us_count",
    "Total number of failed database requests",
    &[],
);
pub const DB_REQUEST_ERROR_DURATION_US_SUM: MetricDef = counter(
    "db_request_error_duration_us_sum",
    "Total duration of failed database requests in microseconds",
    &[],
);
pub const ENDPOINT_REQUESTS: MetricDef = counter(
    "endpoint_requests",
    "Total number of API requests handled by the coreapp",
    &["endpoint", "result"],
);
pub const ENDPOINT_REQUESTS_DURATION_MS_COUNT: MetricDef = counter(
    "endpoint_requests_duration_ms_count",
    "Total number of API requests timed by the coreapp",
    &["endpoint"],
);
pub const ENDPOINT_REQUESTS_DURATION_MS_SUM: MetricDef = counter(
    "endpoint_requests_duration_ms_sum",
    "Total duration of API requests in the coreapp in milliseconds",
    &["endpoint"],
);
pub const GATEWAY_CONNECTED: MetricDef = gauge(
    "gateway_connected",
    "1 while the gateway is connected to the network (gateway_status connected), else 0",
    &[],
);
pub const IN_MESSAGE_FROM_SERVER: MetricDef = counter(
    "in_message_from_server",
    "Total number of inbound messages received from the server",
    &[],
);
pub const IN_MESSAGE_PERSISTED: MetricDef = counter(
    "in_message_persisted",
    "Total number of inbound messages persisted in the database",
    &[],
);
pub const OUT_MESSAGE_PERSISTED: MetricDef = counter(
    "out_message_persisted",
    "Total number of outbound messages persisted in the database",
    &[],
);
pub const OUT_MESSAGE_SENT_DURATION_MS_COUNT: MetricDef = counter(
    "out_message_sent_duration_ms_count",
    "Total number of outbound messages accepted by the server",
    &["retry", "type"],
);
pub const OUT_MESSAGE_SENT_DURATION_MS_SUM: MetricDef = counter(
    "out_message_sent_duration_ms_sum",
    "Total time in milliseconds the server took to accept outbound messages",
    &["retry", "type"],
);
pub const OUT_MESSAGE_STATUS: MetricDef = counter(
    "out_message_status",
    "Total number of outbound message status changes",
    &["status"],
);
pub const PENDING_CALLBACKS: MetricDef = gauge(
    "pending_callbacks",
    "Current number of callbacks sent and waiting for the receiver's answer",
    &[],
);
pub const PENDING_MESSAGES: MetricDef = gauge(
    "pending_messages",
    "Current number of outbound messages not yet accepted by the server",
    &[],
);

/// `GET /v1/stats/app`, in the order they are registered.
pub const APP_STATS: &[MetricDef] = &[
    CALLBACK_QUEUE_SIZE,
    CALLBACK_REQUESTS,
    CALLBACK_REQUESTS_DURATION_MS_COUNT,
    CALLBACK_REQUESTS_DURATION_MS_SUM,
    CONCURRENT_RATE_LIMIT_TRIGGERED,
    DB_REQUEST_DURATION_US_COUNT,
    DB_REQUEST_DURATION_US_SUM,
    DB_REQUEST_ERROR_DURATION_US_COUNT,
    DB_REQUEST_ERROR_DURATION_US_SUM,
    ENDPOINT_REQUESTS,
    ENDPOINT_REQUESTS_DURATION_MS_COUNT,
    ENDPOINT_REQUESTS_DURATION_MS_SUM,
    GATEWAY_CONNECTED,
    IN_MESSAGE_FROM_SERVER,
    IN_MESSAGE_PERSISTED,
    OUT_MESSAGE_PERSISTED,
    OUT_MESSAGE_SENT_DURATION_MS_COUNT,
    OUT_MESSAGE_SENT_DURATION_MS_SUM,
    OUT_MESSAGE_STATUS,
    PENDING_CALLBACKS,
    PENDING_MESSAGES,
];

// ---- coreapp: `GET /v1/stats/db` (computed from the database on each call) ---------------------

pub const DB_CONTACTS: MetricDef =
    gauge("db_contacts", "Current number of contacts in DB", &["type"]);
pub const DB_MESSAGE_RECEIPTS: MetricDef = gauge(
    "db_message_receipts",
    "Current number of message receipts in DB",
    &[],
);
pub const DB_MESSAGES: MetricDef =
    gauge("db_messages", "Current number of messages in DB", &["type"]);
pub const DB_PENDING_CALLBACKS: MetricDef = gauge(
    "db_pending_callbacks",
    "Current number of pending callbacks in DB",
    &[],
);
pub const DB_PENDING_MESSAGES: MetricDef = gauge(
    "db_pending_messages",
    "Current number of pending messages in DB",
    &[],
);

pub const DB_STATS: &[MetricDef] = &[
    DB_CONTACTS,
    DB_MESSAGE_RECEIPTS,
    DB_MESSAGES,
    DB_PENDING_CALLBACKS,
    DB_PENDING_MESSAGES,
];

/// `type` label values of `db_contacts`.
pub const CONTACT_ON_WHATSAPP: &str = "whatsapp_user";
pub const CONTACT_NOT_ON_WHATSAPP: &str = "non_whatsapp_user";

// ---- coreapp: `GET /v1/stats/app/internal` and `/v1/stats/db/internal` (diagnostics) ---------

pub const INTERNAL_UPTIME: MetricDef = gauge(
    "internal_uptime_seconds",
    "Seconds since this coreapp started",
    &[],
);
pub const INTERNAL_GATEWAY_STATUS: MetricDef = gauge(
    "internal_gateway_status",
    "The gateway status /v1/health reports for this node (1 for the current one)",
    &["status"],
);
pub const INTERNAL_NETWORK_SESSION: MetricDef = gauge(
    "internal_network_session",
    "Whether a session with the network is open (1) or not (0)",
    &[],
);
pub const INTERNAL_READY: MetricDef = gauge(
    "internal_ready",
    "Whether the initialization sequence finished on the current session (1) or not (0)",
    &[],
);
pub const INTERNAL_CACHE_ENTRIES: MetricDef = gauge(
    "internal_cache_entries",
    "Entries held in each in-memory cache",
    &["cache"],
);
pub const INTERNAL_DB_POOL_CONNECTIONS: MetricDef = gauge(
    "internal_db_pool_connections",
    "Database connections of the pool: open, idle and the most it opens",
    &["state"],
);
pub const DB_TABLE_ROWS: MetricDef = gauge(
    "db_table_rows",
    "Current number of rows in each table",
    &["table"],
);
pub const DB_BACKEND: MetricDef = gauge(
    "db_backend",
    "The database engine in use (1 for the current one)",
    &["backend"],
);

// ---- webapp: `GET /metrics` ------------------------------------------------------------------

pub const WEB_UPTIME: MetricDef = gauge(
    "web_uptime",
    "Number of seconds since web server has started",
    &["node"],
);
pub const WEB_REQUESTS: MetricDef = gauge(
    "web_requests",
    "Number of ongoing requests",
    &["node", "state"],
);
pub const WEB_HANDLED_REQUESTS: MetricDef = counter(
    "web_handled_requests",
    "Total number of requests handled",
    &["node"],
);
pub const API_REQUESTS_DURATION_MS_COUNT: MetricDef = counter(
    "api_requests_duration_ms_count",
    "Total number of API requests",
    &["node", "result", "method"],
);
pub const API_REQUESTS_DURATION_MS_SUM: MetricDef = counter(
    "api_requests_duration_ms_sum",
    "Total number of durations of API requests",
    &["node", "result", "method"],
);
pub const API_REQUESTS_COREAPP_DURATION_MS_COUNT: MetricDef = counter(
    "api_requests_coreapp_duration_ms_count",
    "Total number of coreapp requests",
    &["app"],
);
pub const API_REQUESTS_COREAPP_DURATION_MS_SUM: MetricDef = counter(
    "api_requests_coreapp_duration_ms_sum",
    "Total number of durations of coreapp requests",
    &["app"],
);

pub const WEB_METRICS: &[MetricDef] = &[
    WEB_UPTIME,
    WEB_REQUESTS,
    WEB_HANDLED_REQUESTS,
    API_REQUESTS_DURATION_MS_COUNT,
    API_REQUESTS_DURATION_MS_SUM,
    API_REQUESTS_COREAPP_DURATION_MS_COUNT,
    API_REQUESTS_COREAPP_DURATION_MS_SUM,
];

/// The `state` of `web_requests` for a request being handled. The original read Apache's
/// scoreboard (`read`, `write`, `keep-alive`, ...); an async server only knows "in a handler".
pub const STATE_HANDLE_REQUEST: &str = "handle-request";

// ---- every process: with `GET /metrics` (labelled `node`) and `GET /v1/stats/app` -----------

// The conventional names of Prometheus client libraries' process collectors, so dashboards
// written for any exporter read them; Linux only (`metrics/process.rs`), absent elsewhere.
pub const PROCESS_CPU_SECONDS_TOTAL: MetricDef = counter(
    "process_cpu_seconds_total",
    "Total user and system CPU time spent in seconds",
    &[],
);
pub const PROCESS_RESIDENT_MEMORY_BYTES: MetricDef = gauge(
    "process_resident_memory_bytes",
    "Resident memory size in bytes",
    &[],
);
pub const PROCESS_VIRTUAL_MEMORY_BYTES: MetricDef = gauge(
    "process_virtual_memory_bytes",
    "Virtual memory size in bytes",
    &[],
);
pub const PROCESS_OPEN_FDS: MetricDef =
    gauge("process_open_fds", "Number of open file descriptors", &[]);
pub const PROCESS_MAX_FDS: MetricDef = gauge(
    "process_max_fds",
    "Maximum number of open file descriptors (the soft limit)",
    &[],
);
pub const PROCESS_THREADS: MetricDef = gauge(
    "process_threads",
    "Number of OS threads in the process",
    &[],
);
pub const PROCESS_START_TIME_SECONDS: MetricDef = gauge(
    "process_start_time_seconds",
    "Start time of the process since unix epoch in seconds",
    &[],
);

pub const PROCESS_METRICS: &[MetricDef] = &[
    PROCESS_CPU_SECONDS_TOTAL,
    PROCESS_RESIDENT_MEMORY_BYTES,
    PROCESS_VIRTUAL_MEMORY_BYTES,
    PROCESS_OPEN_FDS,
    PROCESS_MAX_FDS,
    PROCESS_THREADS,
    PROCESS_START_TIME_SECONDS,
];

// ---- labels ----------------------------------------------------------------------------------

/// The `method` / `endpoint` label of a request: the verb, `_`, and the route template with `/`
/// turned into `_` and parameters unbraced: `GET /v1/users/{username}` → `GET_v1_users_username`.
///
/// Templates rather than raw paths keep the number of series bounded whatever clients send;
/// verbs outside the HTTP set become `OTHER` for the same reason, and unrouted paths `unmatched`.
pub fn request_label(method: &str, route_template: Option<&str>) -> String {
    let Some(template) = route_template else {
        return "unmatched".to_string();
    };
    let verb = match method {
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" => method,
        _ => "OTHER",
    };
    let path: String = template
        .trim_start_matches('/')
        .chars()
        .filter(|c| !matches!(c, '{' | '}'))
        .map(|c| if c == '/' { '_' } else { c })
        .collect();
    format!("{verb}_{path}")
}

// ---- counting --------------------------------------------------------------------------------

/// A registry that remembers the [`MetricDef`] of everything registered in it, so its JSON form
/// carries the defined help texts and lists every statistic even before it has data.
#[derive(Clone)]
pub struct MetricSet {
    registry: Registry,
    defs: Vec<MetricDef>,
}

impl Default for MetricSet {
    fn default() -> Self {
        Self::new()
    }
}

impl MetricSet {
    pub fn new() -> Self {
        MetricSet {
            registry: Registry::new(),
            defs: Vec::new(),
        }
    }

    /// A counter without labels.
    pub fn counter(&mut self, def: MetricDef) -> Result<IntCounter, prometheus::Error> {
        let metric = IntCounter::with_opts(Opts::new(def.name, def.help))?;
        self.register(def, metric.clone())?;
        Ok(metric)
    }

    pub fn counter_vec(&mut self, def: MetricDef) -> Result<IntCounterVec, prometheus::Error> {
        let metric = IntCounterVec::new(Opts::new(def.name, def.help), def.labels)?;
        self.register(def, metric.clone())?;
        Ok(metric)
    }

    /// A gauge without labels; also the way to report a counter that is kept elsewhere and
    /// copied in when read (the output type comes from `def`, not from the collector).
    pub fn gauge(&mut self, def: MetricDef) -> Result<IntGauge, prometheus::Error> {
        let metric = IntGauge::with_opts(Opts::new(def.name, def.help))?;
        self.register(def, metric.clone())?;
        Ok(metric)
    }

    pub fn gauge_vec(&mut self, def: MetricDef) -> Result<IntGaugeVec, prometheus::Error> {
        let metric = IntGaugeVec::new(Opts::new(def.name, def.help), def.labels)?;
        self.register(def, metric.clone())?;
        Ok(metric)
    }

    fn register(
        &mut self,
        def: MetricDef,
        collector: impl Collector + 'static,
    ) -> Result<(), prometheus::Error> {
        self.registry.register(Box::new(collector))?;
        self.defs.push(def);
        Ok(())
    }

    /// Every registered statistic in the JSON model, keyed by name. Unlabelled statistics always
    /// have one sample (0 before anything was counted); labelled ones list the label values seen.
    pub fn to_json(&self) -> Map<String, Value> {
        let families = self.registry.gather();
        let mut stats = Map::new();
        for def in &self.defs {
            let family = families.iter().find(|f| f.name() == def.name);
            let mut data = family.map(family_samples).unwrap_or_default();
            if data.is_empty() && def.labels.is_empty() {
                data.push(json!({ "value": 0 }));
            }
            stats.insert(def.name.to_string(), stat_json(def, data));
        }
        stats
    }
}

/// One statistic in the JSON model, from samples built elsewhere (e.g. database counts).
pub fn stat_json(def: &MetricDef, data: Vec<Value>) -> Value {
    json!({ "type": def.kind.as_str(), "help": def.help, "data": data })
}

/// One sample of the JSON model: `{"labels": {...}, "value": n}`, without `labels` when empty.
pub fn sample_json(labels: &[(&str, &str)], value: i64) -> Value {
    let mut sample = Map::new();
    if !labels.is_empty() {
        let labels: Map<String, Value> = labels
            .iter()
            .map(|(name, value)| (name.to_string(), Value::from(*value)))
            .collect();
        sample.insert("labels".into(), Value::Object(labels));
    }
    sample.insert("value".into(), Value::from(value));
    Value::Object(sample)
}

fn family_samples(family: &MetricFamily) -> Vec<Value> {
    family
        .get_metric()
        .iter()
        .filter_map(|metric| {
            // Only counters and gauges are ever registered (see `MetricSet`).
            let value = match family.get_field_type() {
                MetricType::COUNTER => metric.get_counter().get_value(),
                MetricType::GAUGE => metric.get_gauge().get_value(),
                _ => return None,
            };
            let labels: Vec<(&str, &str)> = metric
                .get_label()
                .iter()
                .map(|pair| (pair.name(), pair.value()))
                .collect();
            let mut sample = sample_json(&labels, 0);
            sample["value"] = number(value);
            Some(sample)
        })
        .collect()
}

/// Whole numbers as JSON integers (every statistic here counts something), others as floats.
fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        Value::from(value as i64)
    } else {
        Number::from_f64(value).map_or(Value::Null, Value::Number)
    }
}

/// Adds `by` to the series of `labels`; a label count that does not match the definition is a
/// programming error, logged rather than allowed to take the service down.
pub fn add(counter: &IntCounterVec, labels: &[&str], by: u64) {
    match counter.get_metric_with_label_values(labels) {
        Ok(series) => series.inc_by(by),
        Err(error) => tracing::error!("cannot count {labels:?}: {error}"),
    }
}

/// Sets the series of `labels` of a gauge; see [`add`].
pub fn set(gauge: &IntGaugeVec, labels: &[&str], value: i64) {
    match gauge.get_metric_with_label_values(labels) {
        Ok(series) => series.set(value),
        Err(error) => tracing::error!("cannot set {labels:?}: {error}"),
    }
}

/// Moves the series of `labels` of a gauge by `delta`; see [`add`].
pub fn shift(gauge: &IntGaugeVec, labels: &[&str], delta: i64) {
    match gauge.get_metric_with_label_values(labels) {
        Ok(series) => series.add(delta),
        Err(error) => tracing::error!("cannot move {labels:?}: {error}"),
    }
}

/// Milliseconds of `elapsed` for the `_ms_sum` counters (sub-millisecond work counts as 0).
pub fn millis(elapsed: std::time::Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
