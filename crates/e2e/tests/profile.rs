//! Profile, business profile, compliance info, two-step verification and the support bundle
//! (spec onprem-rest §7.3–7.4, §8.6–8.9, §9.5) over HTTP, with what the network sees checked
//! through wanet's control API. Separate wanet, coreapp and webapp processes, on each backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{env, installation_on, Messaging, BUSINESS_CC, BUSINESS_NUMBER, BUSINESS_WA_ID};
use e2e::{Receiver, API_KEY};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use wa_store::testing::TestDb;
use wa_store::Backend;

fn network_profile(stack: &Messaging) -> Value {
    let (status, body) = stack
        .wanet
        .get(&format!("/control/businesses/{BUSINESS_WA_ID}/profile"));
    assert_eq!(status, 200, "{body}");
    body
}

/// Waits until the network's copy of the profile satisfies `check`.
fn wait_for_network(stack: &Messaging, what: &str, check: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let profile = network_profile(stack);
        if check(&profile) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "network never saw {what}: {profile}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn about(stack: &Messaging) {
    let (api, admin) = (stack.api(), Some(stack.admin.as_str()));
    let path = "/v1/settings/profile/about";
    let r = api.call("GET", path, admin, None);
    r.expect_status(200);
    assert_eq!(
        r.body["settings"]["profile"]["about"]["text"],
        "Hey there! I am using WhatsApp."
    );
    api.call("PATCH", path, admin, Some(json!({})))
        .expect_error(400, 1008);
    api.call("PATCH", path, admin, Some(json!({ "text": 5 })))
        .expect_error(400, 1009);
    api.call(
        "PATCH",
        path,
        admin,
        Some(json!({ "text": "x".repeat(140) })),
    )
    .expect_error(400, 1009);
    let text = "Open 9–17 CET 😀";
    api.call("PATCH", path, admin, Some(json!({ "text": text })))
        .expect_status(200);
    let r = api.call("GET", path, admin, None);
    assert_eq!(r.body["settings"]["profile"]["about"]["text"], text);
    wait_for_network(stack, "the about text", |p| p["profile"]["about"] == text);
}

fn photo(stack: &Messaging) {
    let (api, admin) = (stack.api(), stack.admin.as_str());
    let path = "/v1/settings/profile/photo";
    let r = api.call("GET", path, Some(admin), None);
    r.expect_error(404, 1006);
    assert_eq!(r.details(), "No picture set.");
    let upload = |bytes: Vec<u8>| {
        api.send(
            api.request("POST", path)
                .header("Authorization", admin)
                .header("Content-Type", "image/jpeg")
                .body(bytes),
        )
    };
    upload(Vec::new()).expect_error(400, 1008);
    let r = upload(vec![0u8; 5 * 1024 * 1024]);
    r.expect_error(400, 1009);
    assert!(
        r.details().starts_with("Photo size too large"),
        "{}",
        r.details()
    );
    // Only JPEG and PNG images are accepted, whatever the declared type.
    for not_an_image in [
        b"\xFF\xD8\xFF\xE0 not a jpeg".to_vec(),
        b"GIF89a......".to_vec(),
        vec![7u8; 100],
    ] {
        let r = upload(not_an_image);
        r.expect_error(400, 1009);
        assert_eq!(r.details(), "The photo must be a JPEG or PNG image");
    }
    let jpeg = e2e::files::jpeg(640, 640, 3000);
    upload(jpeg.clone()).expect_status(201);

    let response = api
        .request("GET", path)
        .header("Authorization", admin)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=profilePicture.jpg"
    );
    assert_eq!(response.bytes().unwrap().as_ref(), jpeg.as_slice());
    let r = api.call("GET", &format!("{path}?format=link"), Some(admin), None);
    r.expect_status(200);
    let link = r.body["settings"]["profile"]["photo"]["link"]
        .as_str()
        .unwrap();
    assert!(
        link.starts_with("https://") && link.ends_with(path),
        "{link}"
    );

    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&jpeg);
    wait_for_network(stack, "the photo", |p| p["profile"]["photo"] == encoded);
    api.call("DELETE", path, Some(admin), None)
        .expect_status(200);
    api.call("GET", path, Some(admin), None)
        .expect_error(404, 1006);
    wait_for_network(stack, "the photo removed", |p| {
        p["profile"]["photo"].is_null()
    });
}

fn business_profile(stack: &Messaging) {
    let (api, admin) = (stack.api(), Some(stack.admin.as_str()));
    let path = "/v1/settings/business/profile";
    let r = api.call("GET", path, admin, None);
    r.expect_status(200);
    assert_eq!(
        r.body["settings"]["business"]["profile"],
        json!({"address": "", "description": "", "email": "", "vertical": "", "websites": []})
    );
    let refused = [
        json!({ "websites": ["https://a.example", "https://b.example", "https://c.example"] }),
        json!({ "websites": ["ftp://a.example"] }),
        json!({ "websites": "https://a.example" }),
        json!({ "email": "not-an-address" }),
        json!({ "email": format!("{}@example.com", "a".repeat(120)) }),
        json!({ "address": "a".repeat(257) }),
        json!({ "description": "d".repeat(257) }),
        json!({ "vertical": "Spaceships" }),
        json!({ "address": 5 }),
    ];
    for body in refused {
        let r = api.call("POST", path, admin, Some(body.clone()));
        r.expect_error(400, 1009);
    }
    let r = api.call(
        "POST",
        path,
        admin,
        Some(
            json!({ "websites": ["https://a.example", "https://b.example", "https://c.example"] }),
        ),
    );
    assert_eq!(r.details(), "Max number of websites allowed is 2");

    api.call(
        "POST",
        path,
        admin,
        Some(json!({ "description": "This is my company", "vertical": "Restaurant" })),
    )
    .expect_status(200);
    // A partial update keeps the fields it does not name.
    api.call(
        "POST",
        path,
        admin,
        Some(json!({ "email": "hello@example.com", "websites": ["https://acme.example"] })),
    )
    .expect_status(200);
    let r = api.call("GET", path, admin, None);
    assert_eq!(
        r.body["settings"]["business"]["profile"],
        json!({"address": "", "description": "This is my company", "email": "hello@example.com",
               "vertical": "Restaurant", "websites": ["https://acme.example"]})
    );
    api.call("POST", path, admin, Some(json!({ "vertical": "" })))
        .expect_error(400, 1009);
    wait_for_network(stack, "the business profile", |p| {
        p["profile"]["business"]["description"] == "This is my company"
    });
}

fn compliance_body() -> Value {
    json!({
        "entity_name": "Example Pvt Ltd",
        "entity_type": "Private Company",
        "is_registered": true,
        "customer_care_details": { "email": "care@example.com", "mobile_number": "+910000000000" },
        "grievance_officer_details": { "name": "A. Officer", "email": "go@example.com", "landline_number": "+910000000001" }
    })
}

fn compliance(stack: &Messaging) {
    let (api, admin) = (stack.api(), Some(stack.admin.as_str()));
    let path = "/v1/settings/business/compliance_info";
    api.call("GET", path, admin, None).expect_status(200);
    // The business address must be set first.
    api.call("POST", path, admin, Some(compliance_body()))
        .expect_error(400, 1009);
    api.call(
        "POST",
        "/v1/settings/business/profile",
        admin,
        Some(json!({ "address": "1 Main Street, Mumbai" })),
    )
    .expect_status(200);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut body = compliance_body();
        change(&mut body);
        api.call("POST", path, admin, Some(body))
    };
    with(&|b| drop(b.as_object_mut().unwrap().remove("entity_name"))).expect_error(400, 1008);
    with(&|b| b["entity_type"] = json!("Guild")).expect_error(400, 1009);
    with(&|b| b["entity_type"] = json!("Other")).expect_error(400, 1008);
    with(&|b| b["is_registered"] = json!("true")).expect_error(400, 1009);
    with(&|b| drop(b.as_object_mut().unwrap().remove("customer_care_details")))
        .expect_error(400, 1008);
    with(&|b| b["customer_care_details"] = json!({ "email": "care@example.com" }))
        .expect_error(400, 1008);
    with(&|b| b["customer_care_details"]["mobile_number"] = json!("0000")).expect_error(400, 1009);
    with(&|b| {
        drop(
            b["grievance_officer_details"]
                .as_object_mut()
                .unwrap()
                .remove("name"),
        )
    })
    .expect_error(400, 1008);
    api.call("POST", path, admin, Some(compliance_body()))
        .expect_status(200);
    let r = api.call("GET", path, admin, None);
    let info = &r.body["settings"]["business"]["compliance_info"];
    assert_eq!(info["entity_name"], "Example Pvt Ltd");
    assert_eq!(info["entity_type_custom"], "");
    assert_eq!(info["is_registered"], true);
    assert_eq!(
        info["customer_care_details"]["mobile_number"],
        "+910000000000"
    );
    assert_eq!(info["grievance_officer_details"]["name"], "A. Officer");
}

fn two_step(stack: &Messaging, backend: Backend) {
    let (api, admin) = (stack.api(), Some(stack.admin.as_str()));
    let path = "/v1/settings/account/two-step";
    api.call("POST", path, admin, Some(json!({})))
        .expect_error(400, 1008);
    let r = api.call("POST", path, admin, Some(json!({ "pin": "" })));
    r.expect_error(400, 1009);
    assert_eq!(r.details(), "Pin must not be empty");
    for pin in [json!("12345"), json!("12345a"), json!(123456)] {
        api.call("POST", path, admin, Some(json!({ "pin": pin })))
            .expect_error(400, 1009);
    }
    api.call("POST", path, admin, Some(json!({ "pin": "123456" })))
        .expect_status(200);
    wait_for_network(stack, "two-step enabled", |p| p["two_step_enabled"] == true);

    // Re-registering the number elsewhere now needs the PIN.
    let other_db = TestDb::new(backend);
    let other = installation_on(&other_db.url, stack.wanet.port);
    let other_admin = other.admin.clone();
    let other = &other.web;
    let cert = stack.wanet.cert("Acme Corp");
    let account = |pin: Option<&str>| {
        let mut body = json!({ "cc": BUSINESS_CC, "phone_number": BUSINESS_NUMBER, "method": "sms", "cert": cert });
        if let Some(pin) = pin {
            body["pin"] = json!(pin);
        }
        retry_until_connected(|| {
            other.client.call(
                "POST",
                "/v1/account",
                Some(&other_admin),
                Some(body.clone()),
            )
        })
    };
    account(None).expect_error(403, 1005);
    account(Some("654321")).expect_error(403, 1005);
    account(Some("123456")).expect_status(202);

    api.call("DELETE", path, admin, None).expect_status(200);
    wait_for_network(stack, "two-step disabled", |p| {
        p["two_step_enabled"] == false
    });
    account(None).expect_status(202);
}

/// The new installation's coreapp may still be opening its first network session.
fn retry_until_connected(call: impl Fn() -> e2e::Reply) -> e2e::Reply {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = call();
        if r.status != 500 || Instant::now() > deadline {
            return r;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn support(stack: &Messaging) {
    let api = stack.api();
    api.call("GET", "/v1/support", None, None)
        .expect_error(401, 1005);
    for auth in [format!("Apikey {API_KEY}"), stack.admin.clone()] {
        let r = api.call("GET", "/v1/support", Some(&auth), None);
        r.expect_status(200);
        let support = &r.body["support"];
        assert_eq!(support["context"], "healthcheck");
        assert_eq!(support["debug_info"], BUSINESS_WA_ID);
        assert_eq!(support["socket_conn"], "UP");
        assert_eq!(support["multi_connect"], false);
        assert!(support["db_engine"].is_string());
        assert!(support["free_space_data"].as_u64().unwrap() > 0);
        let env = support["env"].as_array().unwrap();
        assert!(
            env.iter()
                .all(|v| !v.as_str().unwrap().contains("PASSWORD")),
            "{env:?}"
        );
    }
}

fn non_admins_are_refused(stack: &Messaging) {
    let (api, admin) = (stack.api(), Some(stack.admin.as_str()));
    api.call(
        "POST",
        "/v1/users",
        admin,
        Some(json!({"username": "viewer", "password": "V1ewer!Pass"})),
    )
    .expect_status(201);
    let user = api.bearer("viewer", "V1ewer!Pass");
    for (method, path) in [
        ("GET", "/v1/settings/profile/about"),
        ("GET", "/v1/settings/profile/photo"),
        ("POST", "/v1/settings/business/profile"),
        ("POST", "/v1/settings/account/two-step"),
    ] {
        api.call(method, path, Some(&user), Some(json!({})))
            .expect_error(403, 1005);
    }
}

fn profile_suite(db_env: HashMap<String, String>, backend: Backend) {
    let receiver = Receiver::start();
    let stack = Messaging::start(&db_env, &[], &receiver.url());
    stack.register();
    about(&stack);
    photo(&stack);
    business_profile(&stack);
    compliance(&stack);
    support(&stack);
    non_admins_are_refused(&stack);
    two_step(&stack, backend);
}

#[test]
fn profile_endpoints_on_sqlite() {
    let db = TestDb::new(Backend::Sqlite);
    profile_suite(env(&[("ONPREM__DATABASE__URL", &db.url)]), Backend::Sqlite);
}

#[test]
fn profile_endpoints_on_mysql() {
    let db = TestDb::new(Backend::Mysql);
    profile_suite(env(&[("ONPREM__DATABASE__URL", &db.url)]), Backend::Mysql);
}

#[test]
fn profile_endpoints_on_postgres() {
    let db = TestDb::new(Backend::Postgres);
    profile_suite(
        env(&[("ONPREM__DATABASE__URL", &db.url)]),
        Backend::Postgres,
    );
}

fn count_in_log(stack: &Messaging, needle: &str) -> usize {
    stack.core.log().matches(needle).count()
}

fn wait_for_log(stack: &Messaging, needle: &str, at_least: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while count_in_log(stack, needle) < at_least {
        assert!(
            Instant::now() < deadline,
            "'{needle}' never logged:\n{}",
            stack.core.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `log_level` (spec §8.3) applies to the running coreapp: a debug line appears only after the
/// PATCH to `debug`, and nothing below `error` after the PATCH to `error`.
#[test]
fn log_level_applies_without_restart() {
    let db = TestDb::new(Backend::Sqlite);
    let receiver = Receiver::start();
    let stack = Messaging::start(
        &env(&[("ONPREM__DATABASE__URL", &db.url)]),
        &[],
        &receiver.url(),
    );
    stack.register();
    let (api, admin) = (stack.api(), Some(stack.admin.as_str()));
    let set_about = |text: &str| {
        api.call(
            "PATCH",
            "/v1/settings/profile/about",
            admin,
            Some(json!({ "text": text })),
        )
        .expect_status(200);
    };
    let pushed = "profile pushed to the network";
    let level = |level: &str| {
        api.call(
            "PATCH",
            "/v1/settings/application",
            admin,
            Some(json!({ "log_level": level })),
        )
        .expect_status(200);
    };
    set_about("one");
    wait_for_network(&stack, "the first about", |p| {
        p["profile"]["about"] == "one"
    });
    assert_eq!(
        count_in_log(&stack, pushed),
        0,
        "debug line logged at level info"
    );

    level("debug");
    wait_for_log(&stack, "log level is now 'debug'", 1);
    set_about("two");
    wait_for_log(&stack, pushed, 1);

    level("error");
    std::thread::sleep(Duration::from_millis(500));
    let before = count_in_log(&stack, pushed);
    let infos = count_in_log(&stack, " INFO ");
    set_about("three");
    wait_for_network(&stack, "the third about", |p| {
        p["profile"]["about"] == "three"
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(count_in_log(&stack, pushed), before);
    assert_eq!(
        count_in_log(&stack, " INFO "),
        infos,
        "info lines logged at level error"
    );
}
