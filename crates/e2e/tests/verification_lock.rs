//! Three wrong registration codes lock the number (issue 16, point 3): `/v1/account/verify`
//! and `POST /v1/account` answer 403/1005 `too_many_attempts` with the time left, until the lock
//! (8 hours, compressed here with `--time-scale`) has passed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{env, Messaging, BUSINESS_CC, BUSINESS_NUMBER, BUSINESS_WA_ID, FAST_PHONES};
use e2e::Receiver;
use serde_json::json;
use std::time::{Duration, Instant};
use wa_store::testing::TestDb;
use wa_store::Backend;

#[test]
fn three_wrong_codes_lock_registration_until_the_lock_passes() {
    let db = TestDb::new(Backend::Sqlite);
    let receiver = Receiver::start();
    // 8 hours × 0.0002 ≈ 6 seconds.
    let mut args: Vec<&str> = FAST_PHONES.to_vec();
    args.extend(["--time-scale", "0.0002"]);
    let stack = Messaging::start(
        &env(&[("ONPREM__DATABASE__URL", &db.url)]),
        &args,
        &receiver.url(),
    );
    let api = stack.api();
    let request_code = || {
        let cert = stack.wanet.cert("Acme Corp");
        let body = json!({"cc": BUSINESS_CC, "phone_number": BUSINESS_NUMBER, "method": "sms", "cert": cert});
        api.call("POST", "/v1/account", Some(&stack.admin), Some(body))
    };
    let verify = |code: &str| {
        let body = json!({ "code": code });
        api.call("POST", "/v1/account/verify", Some(&stack.admin), Some(body))
    };
    request_code().expect_status(202);
    let (_, code) = stack.wanet.get(&format!("/control/codes/{BUSINESS_WA_ID}"));
    let code = code["code"].as_str().unwrap().to_string();
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);

    for _ in 0..2 {
        let r = verify(&wrong);
        r.expect_error(403, 1005);
        assert!(r.details().contains("incorrect_code"), "{:?}", r.body);
    }
    let r = verify(&wrong);
    r.expect_error(403, 1005);
    assert!(r.details().contains("too_many_attempts"), "{:?}", r.body);
    // Locked: the right code no longer helps, and no new code can be requested.
    verify(&code).expect_error(403, 1005);
    let r = request_code();
    r.expect_error(403, 1005);
    assert!(r.details().contains("try again in"), "{:?}", r.body);

    // Once the lock has passed, the number registers.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = request_code();
        if r.status == 202 {
            break;
        }
        r.expect_error(403, 1005);
        assert!(Instant::now() < deadline, "the lock never passed");
        std::thread::sleep(Duration::from_millis(500));
    }
    let (_, code) = stack.wanet.get(&format!("/control/codes/{BUSINESS_WA_ID}"));
    verify(code["code"].as_str().unwrap()).expect_status(201);
    stack.wait_for_gateway("connected");
}
