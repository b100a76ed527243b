use super::text::{is_label_name, is_metric_name};
use super::*;

#[test]
fn every_definition_is_valid_and_unique() {
    let mut seen = std::collections::HashSet::new();
    let mut set = MetricSet::new();
    for def in APP_STATS
        .iter()
        .chain(DB_STATS)
        .chain(WEB_METRICS)
        .chain(PROCESS_METRICS)
    {
        assert!(seen.insert(def.name), "{} defined twice", def.name);
        assert!(is_metric_name(def.name), "{}", def.name);
        assert!(def.labels.iter().all(|l| is_label_name(l)), "{}", def.name);
        assert!(!def.help.is_empty());
        let registered = if def.labels.is_empty() {
            set.gauge(*def).map(|_| ())
        } else {
            set.gauge_vec(*def).map(|_| ())
        };
        assert!(registered.is_ok(), "{}: {registered:?}", def.name);
    }
}

#[test]
fn registry_json_has_every_statistic_with_its_help() {
    let mut set = MetricSet::new();
    let queue = set.gauge(CALLBACK_QUEUE_SIZE).unwrap();
    let requests = set.counter_vec(CALLBACK_REQUESTS).unwrap();
    let statuses = set.counter_vec(OUT_MESSAGE_STATUS).unwrap();
    set.counter(IN_MESSAGE_PERSISTED).unwrap();
    queue.set(450);
    add(&requests, &["301", "inbound_message"], 5);
    add(&requests, &["success", "inbound_message"], 1);
    // A wrong label count is logged, not a panic.
    add(&requests, &["only one"], 1);
    let json = Value::Object(set.to_json());
    assert_eq!(
        json["callback_queue_size"],
        json!({"type": "gauge", "help": "Current callback queue size", "data": [{"value": 450}]})
    );
    assert_eq!(
        json["callback_requests"]["data"],
        json!([
            {"labels": {"result": "301", "type": "inbound_message"}, "value": 5},
            {"labels": {"result": "success", "type": "inbound_message"}, "value": 1},
        ])
    );
    assert_eq!(json["in_message_persisted"]["data"], json!([{"value": 0}]));
    assert_eq!(json["out_message_status"]["data"], json!([]));
    drop(statuses);
}

#[test]
fn prometheus_text_follows_the_converter_rules() {
    let stats = json!({
        "db_contacts": {"type": "gauge", "help": "Current number of contacts in DB", "data": [
            {"labels": {"type": "non_whatsapp_user"}, "value": 2},
            {"labels": {"type": "whatsapp_user"}, "value": 5}]},
        "db_message_receipts": {"type": "gauge", "help": "Current number of message receipts in DB", "data": [{"value": 6}]},
        "empty": {"type": "counter", "help": "skipped", "data": []},
        "no_help": {"type": "counter", "data": [{"value": 1}]},
        "out_message_sent_duration_ms_count": {"type": "counter", "help": "sends", "data": [
            {"labels": {"retry": "0", "type": "undefined"}, "value": 2}]},
        "odd": {"type": "gauge", "help": "line\nbreak", "data": [{"labels": {"x": "a\"b\\c"}, "value": 1.5}]},
        "latency": {"type": "histogram", "help": "h", "data": [
            {"labels": {"op": "x"}, "bucket": {"10": 1, "100": 3}, "count": 4, "sum": 250}]},
    });
    let text = prometheus_text(stats.as_object().unwrap());
    assert_eq!(
        text,
        "# HELP db_contacts Current number of contacts in DB\n\
         # TYPE db_contacts gauge\n\
         db_contacts{type=\"non_whatsapp_user\"} 2\n\
         db_contacts{type=\"whatsapp_user\"} 5\n\
         # HELP db_message_receipts Current number of message receipts in DB\n\
         # TYPE db_message_receipts gauge\n\
         db_message_receipts 6\n\
         # HELP latency h\n\
         # TYPE latency histogram\n\
         latency_bucket{op=\"x\",le=\"10\"} 1\n\
         latency_bucket{op=\"x\",le=\"100\"} 3\n\
         latency_bucket{op=\"x\",le=\"+Inf\"} 4\n\
         latency_sum{op=\"x\"} 250\n\
         latency_count{op=\"x\"} 4\n\
         # HELP odd line\\nbreak\n\
         # TYPE odd gauge\n\
         odd{x=\"a\\\"b\\\\c\"} 1.5\n\
         # HELP out_message_sent_duration_ms_count sends\n\
         # TYPE out_message_sent_duration_ms_count counter\n\
         out_message_sent_duration_ms_count{retry=\"0\",type=\"undefined\"} 2\n"
    );
}

#[test]
fn request_labels_use_the_route_template() {
    assert_eq!(
        request_label("GET", Some("/v1/users/{username}")),
        "GET_v1_users_username"
    );
    assert_eq!(
        request_label("POST", Some("/v1/settings/backup")),
        "POST_v1_settings_backup"
    );
    assert_eq!(request_label("GET", Some("/metrics")), "GET_metrics");
    assert_eq!(request_label("BREW", Some("/v1/health")), "OTHER_v1_health");
    assert_eq!(request_label("GET", None), "unmatched");
}
