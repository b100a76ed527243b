//! The simulated network remembers (issue 16): `wa-dev` stopped with Ctrl-C and started again,
//! or a standalone `wanet` and the coreapp restarted separately on MariaDB and PostgreSQL, come
//! back connected with the registration, and what a consumer wrote while the business was cut
//! off arrives as a webhook; a template created and one deleted through the Cloud API stay so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{env, launcher, wanet_control, Messaging, Running, BUSINESS_WA_ID, FAST_PHONES};
use e2e::{Receiver, Service, ADMIN_PASSWORD};
use serde_json::{json, Value};
use std::time::Duration;
use wa_store::testing::TestDb;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);
const CONSUMER: &str = "447400900999";

fn control(port: u16) -> impl Fn(&str, &str, Option<Value>) -> (u16, Value) {
    move |method: &str, path: &str, body: Option<Value>| wanet_control(port, method, path, body)
}

/// The consumer writes while the business is cut off (an outage drops its session and keeps
/// it out); returns the message id.
fn written_while_cut_off(control_port: u16) -> String {
    let control = control(control_port);
    let (status, _) = control("POST", "/control/outage", Some(json!({"seconds": 300})));
    assert_eq!(status, 201);
    let said = json!({"type": "text", "text": {"body": "Are you still open?"}});
    let (status, reply) = control(
        "POST",
        &format!("/control/consumers/{CONSUMER}/messages"),
        Some(said),
    );
    assert_eq!(status, 201, "{reply}");
    reply["id"].as_str().unwrap().to_string()
}

fn send_text(stack: &Running, admin: &str) {
    let send = json!({"to": CONSUMER, "type": "text", "text": {"body": "We are!"}});
    stack
        .client
        .call("POST", "/v1/messages", Some(admin), Some(send))
        .expect_status(201);
}

#[test]
fn wa_dev_stopped_with_ctrl_c_resumes_where_it_was() {
    let data = tempfile::tempdir().unwrap();
    // The simulator's options reach it through wa-dev's environment (issue 16, point 2).
    let fast = [
        ("WANET_DELIVERY_LATENCY_MS", "20"),
        ("WANET_READ_LATENCY_MS", "20"),
    ];
    let mut stack = launcher(data.path(), &fast);
    let admin = stack.client.first_login(ADMIN_PASSWORD);
    let receiver = Receiver::start();
    stack.client.set_webhook_url(&admin, &receiver.url());
    stack.register_demo_number(&admin);
    let (_, config) = control(stack.wanet_control_port)("GET", "/control/config", None);
    assert_eq!(config["delivery_latency_ms"], 20, "{config}");
    let waiting = written_while_cut_off(stack.wanet_control_port);
    stack.service.interrupt(WAIT);
    assert!(data.path().join("wanet.sqlite").exists());

    let stack = launcher(data.path(), &fast);
    let admin = stack.client.bearer("admin", ADMIN_PASSWORD);
    stack.wait_connected(&admin);
    let inbound = receiver.wait_for_inbound(WAIT, &waiting);
    assert_eq!(inbound["text"]["body"], "Are you still open?");
    // The window the message opened survived too: a free-form answer is delivered.
    send_text(&stack, &admin);
    receiver.wait_until(WAIT, "delivered", |bodies| {
        bodies
            .iter()
            .any(|b| b["statuses"][0]["status"] == "delivered")
    });
}

#[test]
fn standalone_wanet_and_coreapp_restart_separately_on_mariadb() {
    restart_separately(Backend::Mysql);
}

#[test]
fn standalone_wanet_and_coreapp_restart_separately_on_postgresql() {
    restart_separately(Backend::Postgres);
}

fn restart_separately(backend: Backend) {
    let product_db = TestDb::new(backend);
    let network_db = TestDb::new(backend);
    let receiver = Receiver::start();
    let mut args: Vec<&str> = FAST_PHONES.to_vec();
    args.extend(["--database-url", &network_db.url]);
    let db_env = env(&[("ONPREM__DATABASE__URL", &product_db.url)]);
    let mut stack = Messaging::start(&db_env, &args, &receiver.url());
    stack.register();
    // A template written through the Cloud API is answered only once the network stored it.
    let templates = format!(
        "/v21.0/{}/message_templates",
        wa_api::cloud::ids::waba_id(BUSINESS_WA_ID)
    );
    let submitted = json!({"name": "kept_offer", "language": "en", "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Still here after a restart."}]});
    stack
        .api()
        .call("POST", &templates, Some(&stack.admin), Some(submitted))
        .expect_status(200);
    stack
        .api()
        .call(
            "DELETE",
            &format!("{templates}?name=otp"),
            Some(&stack.admin),
            None,
        )
        .expect_status(200);
    let waiting = written_while_cut_off(stack.wanet.control_port);

    // The network restarts on its database (SIGINT, as `docker stop` sends SIGTERM).
    stack.wanet.service.interrupt(WAIT);
    let listen = format!("127.0.0.1:{}", stack.wanet.port);
    let control_listen = format!("127.0.0.1:{}", stack.wanet.control_port);
    let mut all = vec!["--listen", &listen, "--control-listen", &control_listen];
    all.extend(&args);
    let mut wanet = Service::start("wanet", &all, &Default::default());
    wanet.wait_for_port(stack.wanet.control_port);
    stack.wanet.service = wanet;
    stack.wait_for_gateway("connected");
    receiver.wait_for_inbound(WAIT, &waiting);
    let (_, kept) = stack.wanet.get("/control/templates");
    let names: Vec<&Value> = kept["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["name"])
        .collect();
    assert!(names.contains(&&json!("kept_offer")), "{kept}");
    assert!(!names.contains(&&json!("otp")), "{kept}");
    let r = stack.send_text(CONSUMER, "first answer");
    r.expect_status(201);

    // Then the coreapp alone: it reconnects with the same credentials.
    stack.restart_coreapp();
    stack.wait_for_gateway("connected");
    let r = stack.send_text(CONSUMER, "second answer");
    r.expect_status(201);
    let id = r.body["messages"][0]["id"].as_str().unwrap().to_string();
    receiver.wait_until(WAIT, "delivered after both restarts", |bodies| {
        bodies.iter().any(|b| {
            b["statuses"][0]["id"] == id.as_str() && b["statuses"][0]["status"] == "delivered"
        })
    });
    let (_, business) = stack
        .wanet
        .get(&format!("/control/businesses/{BUSINESS_WA_ID}"));
    assert_eq!(business["connected"], true, "{business}");
}

/// A new simulator on empty state replaces the network on the same ports.
fn replace_network_with_an_empty_one(stack: &mut Messaging) {
    stack.wanet.service.kill();
    let listen = format!("127.0.0.1:{}", stack.wanet.port);
    let control_listen = format!("127.0.0.1:{}", stack.wanet.control_port);
    let mut all = vec!["--listen", &listen, "--control-listen", &control_listen];
    all.extend(FAST_PHONES);
    let mut wanet = Service::start("wanet", &all, &Default::default());
    wanet.wait_for_port(stack.wanet.control_port);
    stack.wanet.service = wanet;
}

fn wait_for_refusal_webhook(receiver: &Receiver, seen_before: usize) {
    receiver.wait_until(WAIT, "the registration error webhook", |bodies| {
        bodies
            .iter()
            .filter(|b| b["errors"][0]["code"] == 1005)
            .count()
            > seen_before
    });
}

#[test]
fn a_wiped_network_lets_the_installation_register_again_through_the_api() {
    let db = TestDb::new(Backend::Sqlite);
    let receiver = Receiver::start();
    let db_env = env(&[("ONPREM__DATABASE__URL", &db.url)]);
    let mut stack = Messaging::start(&db_env, FAST_PHONES, &receiver.url());
    stack.register();

    // The network forgot the number: the coreapp says so (health, log, webhook) ...
    replace_network_with_an_empty_one(&mut stack);
    wait_for_refusal_webhook(&receiver, 0);
    stack.wait_for_gateway("unregistered");
    assert!(
        stack
            .core
            .log()
            .contains("refused this number's credentials"),
        "{}",
        stack.core.log()
    );
    // ... and registers the same number again with no database edit.
    stack.register();
    let r = stack.send_text(CONSUMER, "back again");
    r.expect_status(201);

    // Wiped again: this time another number is registered.
    replace_network_with_an_empty_one(&mut stack);
    wait_for_refusal_webhook(&receiver, 1);
    stack.wait_for_gateway("unregistered");
    let cert = stack.wanet.cert("Other Shop");
    let body = json!({"cc": "44", "phone_number": "7400900321", "method": "voice", "cert": cert});
    let api = stack.api();
    let r = api.call("POST", "/v1/account", Some(&stack.admin), Some(body));
    r.expect_status(202);
    let (_, code) = stack.wanet.get("/control/codes/447400900321");
    let verify = json!({"code": code["code"]});
    api.call(
        "POST",
        "/v1/account/verify",
        Some(&stack.admin),
        Some(verify),
    )
    .expect_status(201);
    stack.wait_for_gateway("connected");
    let (_, business) = stack.wanet.get("/control/businesses/447400900321");
    assert_eq!(business["connected"], true, "{business}");
}
