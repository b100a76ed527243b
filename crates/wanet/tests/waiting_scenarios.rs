//! Scenario entries that need a business wait for it (control/scenario/waiting.rs): loaded
//! before the number registers, they are kept (durably, on every backend of the state store)
//! and applied at its first registration, before the coreapp gets its credentials; a number
//! that registers again does not get them again. A scenario's `[config]` sets the run-time
//! options by the names of `PATCH /control/config`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{test_config, Net, BUSINESS, BUSINESS_CC, BUSINESS_NUMBER, CONSUMER, WAIT};
use serde_json::{json, Value};
use std::time::Duration;
use wa_netproto::Request;
use wa_store::testing::TestDb;
use wa_store::Backend;
use wanet::WanetConfig;

const LIMITS_AND_TERMS: &str = r#"
name = "new-number"

[[limits]]
tier = 2

[[terms]]
accepted = false

[[events]]
at_ms = 60000
action = "terms"
accepted = true
"#;

async fn waiting(net: &Net) -> Vec<Value> {
    let (status, body) = net.get("/control/scenarios/waiting").await;
    assert_eq!(status, 200, "{body}");
    body["waiting"].as_array().unwrap().clone()
}

async fn limits(net: &Net) -> Value {
    let (status, body) = net
        .get(&format!("/control/businesses/{BUSINESS}/limits"))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn template() -> Value {
    json!({"type": "template", "template": {"namespace": "ns", "name": "hello",
        "language": {"code": "en"}}})
}

#[tokio::test]
async fn entries_loaded_before_the_registration_apply_at_it_and_only_once() {
    let net = Net::start_with(WanetConfig {
        // The terms event at 60 s plays 600 ms after the registration.
        time_scale: 0.01,
        ..test_config()
    })
    .await;
    let (status, loaded) = net.post_scenario(LIMITS_AND_TERMS).await;
    assert_eq!(status, 201, "{loaded}");
    assert_eq!(
        (
            &loaded["applied"],
            &loaded["waiting"],
            &loaded["events_wait"]
        ),
        (&json!(0), &json!(2), &json!(true)),
        "{loaded}"
    );
    let keys: Vec<Value> = waiting(&net)
        .await
        .iter()
        .map(|w| w["key"].clone())
        .collect();
    assert_eq!(
        keys,
        [
            json!("new-number/limits/0"),
            json!("new-number/terms/0"),
            json!("new-number/events/0")
        ]
    );
    // Loading it again (a restart with the same --scenario) replaces, never doubles.
    assert_eq!(net.post_scenario(LIMITS_AND_TERMS).await.0, 201);
    assert_eq!(waiting(&net).await.len(), 3);

    let credentials = net.register_business().await;
    assert!(waiting(&net).await.is_empty());
    assert_eq!(limits(&net).await["tier"], 2);
    let mut session = net.business_session(&credentials).await;
    let refused = session
        .request(Request::SendMessage {
            id: "gBGGwait1".into(),
            to: CONSUMER.into(),
            message: template(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code, 1005, "the terms wait applied: {refused:?}");
    // The timeline plays from the registration: the terms are accepted 600 ms after it.
    let mut outcome = Err(refused);
    for n in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        outcome = session
            .request(Request::SendMessage {
                id: format!("gBGGwait{}", n + 2),
                to: CONSUMER.into(),
                message: template(),
            })
            .await;
        if outcome.is_ok() {
            break;
        }
    }
    assert!(outcome.is_ok(), "the terms event never played: {outcome:?}");

    // A new registration of the same number keeps what it has now: tier 5, terms accepted.
    let (status, _) = net
        .post(
            &format!("/control/businesses/{BUSINESS}/limits"),
            json!({"tier": 5}),
        )
        .await;
    assert_eq!(status, 200);
    drop(session);
    let credentials = net.register(BUSINESS_CC, BUSINESS_NUMBER, "Acme Inc").await;
    assert_eq!(limits(&net).await["tier"], 5);
    let mut session = net.business_session(&credentials).await;
    session
        .request(Request::SendMessage {
            id: "gBGGagain".into(),
            to: CONSUMER.into(),
            message: template(),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn an_entry_naming_its_number_waits_for_that_one() {
    let net = Net::start().await;
    let named = format!(
        "[[limits]]\nbusiness = \"+{BUSINESS}\"\nupgraded = true\n\n[[limits]]\ntier = 7\n"
    );
    let (status, loaded) = net.post_scenario(&named).await;
    assert_eq!(status, 201, "{loaded}");
    // Another number registers first: it gets the unnamed entry, not the named one.
    net.register("44", "7400900123", "Acme UK").await;
    let (_, uk) = net.get("/control/businesses/447400900123/limits").await;
    assert_eq!(
        (&uk["tier"], &uk["upgraded"]),
        (&json!(7), &json!(false)),
        "{uk}"
    );
    let left = waiting(&net).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["business"], BUSINESS);
    net.register_business().await;
    let ours = limits(&net).await;
    assert_eq!(
        (&ours["tier"], &ours["upgraded"]),
        (&json!(1000), &json!(true)),
        "{ours}"
    );
    assert!(waiting(&net).await.is_empty());
}

#[tokio::test]
async fn a_scenario_sets_the_run_time_options_and_bad_ones_refuse_it_whole() {
    let net = Net::start().await;
    let text = r#"
        name = "strict-and-slow"
        [config]
        rate_limits = "strict"
        latency = "realistic"
        time_scale = 0.5
        [[consumers]]
        wa_id = "16315550700"
    "#;
    let (status, loaded) = net.post_scenario(text).await;
    assert_eq!(status, 201, "{loaded}");
    assert_eq!(loaded["config"]["rate_limits"], "strict", "{loaded}");
    let (_, config) = net.get("/control/config").await;
    assert_eq!(
        (
            &config["rate_limits"],
            &config["latency"],
            &config["time_scale"]
        ),
        (&json!("strict"), &json!("realistic"), &json!(0.5)),
        "{config}"
    );
    assert_eq!(
        config["window_secs"], 86_400,
        "untouched options keep their value"
    );
    for (bad, why) in [
        (
            "[config]\nrate_limit = \"strict\"\n",
            "unknown field `rate_limit`",
        ),
        ("[config]\nlatency = \"slow\"\n", "unknown variant `slow`"),
        (
            "[config]\nread_probability = 2.0\n",
            "read_probability must be between 0 and 1",
        ),
        (
            "[config]\ntime_scale = 0.0\n",
            "time_scale must be a positive number",
        ),
    ] {
        let text = format!("{bad}[[consumers]]\nwa_id = \"16315550701\"\nname = \"Refused\"\n");
        let (status, body) = net.post_scenario(&text).await;
        assert_eq!(status, 400, "{bad}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(why), "{bad}: {body}");
    }
    let (_, config) = net.get("/control/config").await;
    assert_eq!(
        config["time_scale"], 0.5,
        "a refused scenario changes nothing: {config}"
    );
    let (_, consumer) = net.get("/control/consumers/16315550701").await;
    assert_ne!(consumer["name"], "Refused", "{consumer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_entries_survive_a_restart_on_a_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    waiting_entries_survive_a_restart(WanetConfig {
        data_dir: Some(dir.path().to_path_buf()),
        ..test_config()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_entries_survive_a_restart_on_mariadb() {
    let db = TestDb::new(Backend::Mysql);
    waiting_entries_survive_a_restart(on_url(&db)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_entries_survive_a_restart_on_postgresql() {
    let db = TestDb::new(Backend::Postgres);
    waiting_entries_survive_a_restart(on_url(&db)).await;
}

fn on_url(db: &TestDb) -> WanetConfig {
    WanetConfig {
        database_url: Some(db.url.clone()),
        ..test_config()
    }
}

/// Loaded at run time, kept through a restart without the scenario, applied at the
/// registration after it; and gone from the store once applied.
async fn waiting_entries_survive_a_restart(config: WanetConfig) {
    let net = Net::start_with(config.clone()).await;
    let (status, loaded) = net.post_scenario(LIMITS_AND_TERMS).await;
    assert_eq!(status, 201, "{loaded}");
    net.wanet.handle().stop().await;

    let net = Net::start_with(config.clone()).await;
    assert_eq!(waiting(&net).await.len(), 3);
    let credentials = net.register_business().await;
    assert_eq!(limits(&net).await["tier"], 2);
    let mut session = net.business_session(&credentials).await;
    let refused = session
        .request(Request::SendMessage {
            id: "gBGGrestart".into(),
            to: CONSUMER.into(),
            message: template(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code, 1005, "{refused:?}");
    drop(session);
    net.wanet.handle().stop().await;

    let net = Net::start_with(config).await;
    let left = tokio::time::timeout(WAIT, waiting(&net)).await.unwrap();
    assert!(
        left.is_empty(),
        "applied entries must not come back: {left:?}"
    );
}
