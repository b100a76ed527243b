//! Backup and restore (spec onprem-rest §8.10): a backup taken on one backend restored on an empty
//! installation on another gives the same settings and registration, and the restored coreapp
//! connects to the network as the business. Wrong passwords and damaged data are clear 400s.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use e2e::stack::{env, installation_on, Installation, Messaging, BUSINESS_WA_ID};
use e2e::Receiver;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wa_store::testing::TestDb;
use wa_store::Backend;

const SETTINGS_PATHS: &[&str] = &[
    "/v1/settings/application",
    "/v1/settings/profile/about",
    "/v1/settings/business/profile",
    "/v1/settings/business/compliance_info",
];

fn configure(stack: &Messaging) {
    let (api, admin) = (stack.api(), Some(stack.admin.as_str()));
    let calls = [
        (
            "PATCH",
            "/v1/settings/application",
            json!({ "sent_status": true, "callback_backoff_delay_ms": 987 }),
        ),
        (
            "PATCH",
            "/v1/settings/profile/about",
            json!({ "text": "Backed up" }),
        ),
        (
            "POST",
            "/v1/settings/business/profile",
            json!({ "address": "1 Main St", "description": "Acme", "vertical": "Education" }),
        ),
        (
            "POST",
            "/v1/settings/business/compliance_info",
            json!({
                "entity_name": "Acme", "entity_type": "Other", "entity_type_custom": "Guild",
                "customer_care_details": { "email": "c@acme.example", "landline_number": "+911234567890" },
                "grievance_officer_details": { "name": "G", "email": "g@acme.example", "mobile_number": "+911234567891" }
            }),
        ),
        (
            "POST",
            "/v1/settings/account/two-step",
            json!({ "pin": "246810" }),
        ),
    ];
    for (method, path, body) in calls {
        stack
            .api()
            .call(method, path, admin, Some(body))
            .expect_status(200);
    }
    let photo = api.send(
        api.request("POST", "/v1/settings/profile/photo")
            .header("Authorization", &stack.admin)
            .header("Content-Type", "image/png")
            .body(e2e::files::png(4, 4)),
    );
    photo.expect_status(201);
}

fn snapshot(api: &e2e::Client, admin: &str) -> Vec<Value> {
    SETTINGS_PATHS
        .iter()
        .map(|path| {
            let r = api.call("GET", path, Some(admin), None);
            r.expect_status(200);
            r.body["settings"].clone()
        })
        .collect()
}

fn photo_bytes(api: &e2e::Client, admin: &str) -> Vec<u8> {
    let response = api
        .request("GET", "/v1/settings/profile/photo")
        .header("Authorization", admin)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    response.bytes().unwrap().to_vec()
}

fn wait_connected(target: &Installation) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = target
            .web
            .client
            .call("GET", "/v1/health", Some(&target.admin), None);
        if r.body["health"]["gateway_status"] == "connected" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "restored coreapp never connected\n{}",
            target.core.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn backup_errors(stack: &Messaging) {
    let (api, admin) = (stack.api(), Some(stack.admin.as_str()));
    api.call("POST", "/v1/settings/backup", admin, Some(json!({})))
        .expect_error(400, 1008);
    api.call(
        "POST",
        "/v1/settings/backup",
        admin,
        Some(json!({ "password": "" })),
    )
    .expect_error(400, 1009);
    api.call(
        "POST",
        "/v1/settings/backup",
        None,
        Some(json!({ "password": "x" })),
    )
    .expect_error(401, 1005);
}

fn restore_errors(target: &Installation, data: &str) {
    let (api, admin) = (&target.web.client, Some(target.admin.as_str()));
    let restore = |body: Value| api.call("POST", "/v1/settings/restore", admin, Some(body));
    restore(json!({ "data": data })).expect_error(400, 1008);
    restore(json!({ "password": "s3cret-backup" })).expect_error(400, 1008);
    let r = restore(json!({ "password": "wrong", "data": data }));
    r.expect_error(400, 1009);
    assert!(r.details().contains("wrong password"), "{}", r.details());
    restore(json!({ "password": "s3cret-backup", "data": "not base64 !!" }))
        .expect_error(400, 1009);
    // One flipped byte in the ciphertext: authentication fails, nothing is written.
    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    let damaged = base64::engine::general_purpose::STANDARD.encode(bytes);
    restore(json!({ "password": "s3cret-backup", "data": damaged })).expect_error(400, 1009);
    restore(json!({ "password": "s3cret-backup", "data": &data[..data.len() / 2] }))
        .expect_error(400, 1009);
    let r = api.call("GET", "/v1/health", admin, None);
    assert_eq!(
        r.body["health"]["gateway_status"], "unregistered",
        "a failed restore changed the registration"
    );
}

fn backup_then_restore(from: Backend, to: Backend) {
    let receiver = Receiver::start();
    let source_db = TestDb::new(from);
    let mut stack = Messaging::start(
        &env(&[("ONPREM__DATABASE__URL", &source_db.url)]),
        &[],
        &receiver.url(),
    );
    stack.register();
    configure(&stack);
    backup_errors(&stack);
    let r = stack.api().call(
        "POST",
        "/v1/settings/backup",
        Some(&stack.admin),
        Some(json!({ "password": "s3cret-backup" })),
    );
    r.expect_status(200);
    let data = r.body["settings"]["data"].as_str().unwrap().to_string();
    let expected = snapshot(stack.api(), &stack.admin);
    let expected_photo = photo_bytes(stack.api(), &stack.admin);
    // Changed after the backup: the restored coreapp must push the backed-up profile again when
    // it connects, so the network converges on what its database holds.
    stack
        .api()
        .call(
            "PATCH",
            "/v1/settings/profile/about",
            Some(&stack.admin),
            Some(json!({ "text": "Changed after the backup" })),
        )
        .expect_status(200);
    wait_for_about(&stack, "Changed after the backup");
    // The old installation is retired before the new one takes over, as in a real move: two
    // coreapps on one number take the session from each other in turn and neither settles.
    stack.core.kill();

    let target_db = TestDb::new(to);
    let target = installation_on(&target_db.url, stack.wanet.port);
    restore_errors(&target, &data);
    target
        .web
        .client
        .call(
            "POST",
            "/v1/settings/restore",
            Some(&target.admin),
            Some(json!({ "password": "s3cret-backup", "data": data })),
        )
        .expect_status(200);
    wait_connected(&target);
    assert_eq!(snapshot(&target.web.client, &target.admin), expected);
    assert_eq!(
        photo_bytes(&target.web.client, &target.admin),
        expected_photo
    );
    let r = target
        .web
        .client
        .call("GET", "/v1/settings/application", Some(&target.admin), None);
    assert_eq!(r.body["settings"]["application"]["wa_id"], BUSINESS_WA_ID);
    // The network sees the restored installation as the business.
    let (status, business) = stack
        .wanet
        .get(&format!("/control/businesses/{BUSINESS_WA_ID}"));
    assert_eq!(status, 200);
    assert_eq!(business["connected"], true);
    wait_for_about(&stack, "Backed up");
    let (_, profile) = stack
        .wanet
        .get(&format!("/control/businesses/{BUSINESS_WA_ID}/profile"));
    assert_eq!(profile["two_step_enabled"], true);
}

fn wait_for_about(stack: &Messaging, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, profile) = stack
            .wanet
            .get(&format!("/control/businesses/{BUSINESS_WA_ID}/profile"));
        if profile["profile"]["about"] == text {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the network never saw about '{text}': {profile}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn backup_from_mysql_restores_on_postgres() {
    backup_then_restore(Backend::Mysql, Backend::Postgres);
}

#[test]
fn backup_from_postgres_restores_on_sqlite() {
    backup_then_restore(Backend::Postgres, Backend::Sqlite);
}
