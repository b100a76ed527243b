//! Spec onprem-rest Appendix B, the first-run sequence, against README command 1's binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::launcher;
use e2e::{ADMIN_PASSWORD, API_KEY};
use serde_json::json;

#[test]
fn appendix_b_first_run_sequence() {
    let data = tempfile::tempdir().unwrap();
    let stack = launcher(data.path(), &[("ONPREM__WEBAPP__FAILED_LOGINS_MAX", "5")]);
    let api = &stack.client;

    // 1. Default password, no body: 401/1024.
    let r = api.login("admin", "secret", None);
    r.expect_error(401, 1024);
    assert_eq!(r.details(), "Password must be changed");
    // A JSON body without new_password is the same.
    api.login("admin", "secret", Some(json!({})))
        .expect_error(401, 1024);

    // 2. A weak new password: 400/1009 with the complexity message.
    let r = api.login("admin", "secret", Some(json!({"new_password": "weak"})));
    r.expect_error(400, 1009);
    assert!(r
        .details()
        .starts_with("Password doesn't meet complexity requirements"));

    // 3. A strong one: 200 with a token valid for 7 days.
    let r = api.login(
        "admin",
        "secret",
        Some(json!({"new_password": ADMIN_PASSWORD})),
    );
    r.expect_status(200);
    let user = &r.body["users"][0];
    let t1 = format!("Bearer {}", user["token"].as_str().unwrap());
    assert_eq!(r.body["meta"]["api_status"], "stable");
    assert!(r.body["meta"]["version"].as_str().unwrap().starts_with('v'));
    let expires = user["expires_after"].as_str().unwrap();
    assert_expires_in_about_seven_days(expires);
    assert!(r.headers.contains_key("x-request-id"));

    // 5. Health with the token: unregistered (no number registered yet).
    let r = api.call("GET", "/v1/health", Some(&t1), None);
    r.expect_status(200);
    assert_eq!(r.body["health"], json!({"gateway_status": "unregistered"}));

    // 6. Health with the API key: the same; the key is refused elsewhere.
    let apikey = format!("Apikey {API_KEY}");
    let r = api.call("GET", "/v1/health", Some(&apikey), None);
    r.expect_status(200);
    assert_eq!(r.body["health"]["gateway_status"], "unregistered");
    api.call("GET", "/v1/users/admin", Some(&apikey), None)
        .expect_error(401, 1005);
    api.call("GET", "/v1/health", Some("Apikey wrong-key-000000"), None)
        .expect_error(401, 1005);

    // 8. A regular user: created by admin, can read itself, not admin.
    let r = api.call(
        "POST",
        "/v1/users",
        Some(&t1),
        Some(json!({"username": "ops", "password": "0ps!Secret"})),
    );
    r.expect_status(201);
    assert_eq!(r.body["users"][0]["username"], "ops");
    let t2 = api.bearer("ops", "0ps!Secret");
    let r = api.call("GET", "/v1/users/admin", Some(&t2), None);
    r.expect_error(403, 1005);
    assert_eq!(
        r.details(),
        "Regular user cannot read other user information"
    );
    let r = api.call("GET", "/v1/users/ops", Some(&t2), None);
    r.expect_status(200);
    assert_eq!(
        r.body["users"][0],
        json!({"ROLES": "ROLE_USER", "username": "ops"})
    );
    let r = api.call("GET", "/v1/users/admin", Some(&t1), None);
    assert_eq!(
        r.body["users"][0],
        json!({"ROLES": "ROLE_ADMIN", "username": "admin"})
    );

    // 11. The admin cannot be deleted.
    let r = api.call("DELETE", "/v1/users/admin", Some(&t1), None);
    r.expect_error(400, 1009);
    assert_eq!(r.details(), "Admin user cannot be deleted");

    // 12. Unknown path.
    let r = api.call("GET", "/v1/nonexistent", Some(&t1), None);
    r.expect_error(404, 1006);
    assert_eq!(r.details(), "URL path not found");

    // 10. Logout revokes T1 only.
    api.call("POST", "/v1/users/logout", Some(&t1), None)
        .expect_status(200);
    api.call("GET", "/v1/users/admin", Some(&t1), None)
        .expect_error(401, 1005);
    api.call("GET", "/v1/users/ops", Some(&t2), None)
        .expect_status(200);

    // A password change revokes the tokens issued before it, on every webapp (the token table is
    // shared); a login with the new password works.
    let t3 = api.bearer("ops", "0ps!Secret");
    api.call(
        "PUT",
        "/v1/users/ops",
        Some(&t2),
        Some(json!({"password": "N3w!Secret"})),
    )
    .expect_status(200);
    for token in [&t2, &t3] {
        api.call("GET", "/v1/users/ops", Some(token), None)
            .expect_error(401, 1005);
    }
    let t4 = api.bearer("ops", "N3w!Secret");
    api.call("GET", "/v1/users/ops", Some(&t4), None)
        .expect_status(200);

    // 4. The old default password no longer works; repeated failures lock the IP out, and then
    // even the right password is refused with 429/1015.
    let r = api.login("admin", "secret", None);
    r.expect_error(401, 1005);
    assert_eq!(r.headers["www-authenticate"], "Basic realm=\"Secured\"");
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(api.login("admin", "secret", None).status);
    }
    assert_eq!(statuses.last(), Some(&429), "statuses: {statuses:?}");
    let r = api.login("admin", ADMIN_PASSWORD, None);
    r.expect_error(429, 1015);
    assert_eq!(r.details(), "Rate limiting exceeded on bad login attempts");
}

fn assert_expires_in_about_seven_days(expires: &str) {
    assert!(expires.ends_with("+00:00"), "{expires}");
    let parsed = chrono_like_parse(expires);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let lifetime = parsed - now;
    assert!(
        (604_800 - 120..=604_800 + 5).contains(&lifetime),
        "lifetime {lifetime}s"
    );
}

/// `YYYY-MM-DD HH:MM:SS+00:00` → unix seconds, without pulling a date crate into the tests.
fn chrono_like_parse(text: &str) -> i64 {
    let digits = |range: std::ops::Range<usize>| text[range].parse::<i64>().unwrap();
    let (y, m, d) = (digits(0..4), digits(5..7), digits(8..10));
    let (hh, mm, ss) = (digits(11..13), digits(14..16), digits(17..19));
    // Days from civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hh * 3600 + mm * 60 + ss
}

#[test]
fn readme_command_prints_url_and_first_login_credentials() {
    let data = tempfile::tempdir().unwrap();
    let stack = launcher(data.path(), &[]);
    // The banner is printed once serving starts; give it a moment to be flushed.
    let mut log = String::new();
    for _ in 0..50 {
        log = stack.service.log();
        if log.contains("Login:") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        log.contains(&format!("https://localhost:{}/", stack.port)),
        "{log}"
    );
    assert!(log.contains("admin / secret"), "{log}");
    assert!(data.path().join("waent.db").exists());
    // No key configured: wa-dev wrote one next to the database, readable by its owner only, and
    // sealed the database's secrets with it.
    let key_file = data.path().join("secrets.key");
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert!(wa_store::SecretsKey::parse(&key).is_ok(), "{key:?}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(log.contains("generated the secrets key"), "{log}");
    // A restart on the same folder keeps the key and opens what it sealed.
    drop(stack);
    let again = launcher(data.path(), &[]);
    again.client.first_login(e2e::ADMIN_PASSWORD);
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key);
}

/// The README's first steps on command 1's binary: register through the bundled simulator,
/// hear from a customer, answer, and see the statuses by webhook.
#[test]
fn readme_walkthrough_with_the_bundled_simulator() {
    let data = tempfile::tempdir().unwrap();
    let stack = launcher(data.path(), &[]);
    let api = &stack.client;
    let admin = api.first_login(ADMIN_PASSWORD);
    let receiver = e2e::Receiver::start();
    api.set_webhook_url(&admin, &receiver.url());
    let r = api.call("GET", "/v1/settings/application", Some(&admin), None);
    assert_eq!(
        r.body["settings"]["application"]["webhooks"]["url"],
        receiver.url()
    );

    let control = reqwest::blocking::Client::new();
    let base = format!("http://127.0.0.1:{}", stack.wanet_control_port);
    let cert: serde_json::Value = control
        .post(format!("{base}/control/certs"))
        .json(&json!({"vname": "Demo Shop"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let body =
        json!({"cc": "44", "phone_number": "7400900123", "method": "voice", "cert": cert["cert"]});
    api.call("POST", "/v1/account", Some(&admin), Some(body))
        .expect_status(202);
    let code: serde_json::Value = control
        .get(format!("{base}/control/codes/447400900123"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let code = code["code"].as_str().unwrap();
    api.call(
        "POST",
        "/v1/account/verify",
        Some(&admin),
        Some(json!({"code": code})),
    )
    .expect_status(201);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while api.call("GET", "/v1/health", Some(&admin), None).body["health"]["gateway_status"]
        != "connected"
    {
        assert!(std::time::Instant::now() < deadline, "never connected");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let said = json!({"type": "text", "text": {"body": "Do you ship to Leeds?"}});
    let r = control
        .post(format!("{base}/control/consumers/447400900999/messages"))
        .json(&said)
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    receiver.wait_until(
        std::time::Duration::from_secs(60),
        "the customer's message",
        |b| {
            b.iter()
                .any(|m| m["messages"][0]["text"]["body"] == "Do you ship to Leeds?")
        },
    );
    let send = json!({"to": "447400900999", "type": "text", "text": {"body": "We do!"}});
    let r = api.call("POST", "/v1/messages", Some(&admin), Some(send));
    r.expect_status(201);
    let id = r.body["messages"][0]["id"].as_str().unwrap().to_string();
    receiver.wait_until(std::time::Duration::from_secs(60), "delivered", |b| {
        b.iter().any(|m| {
            m["statuses"][0]["id"] == id.as_str() && m["statuses"][0]["status"] == "delivered"
        })
    });
}
