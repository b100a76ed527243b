//! `/v1/stickerpacks` through the real stack: WhatsApp's first-party packs served by wanet (and
//! from the coreapp's cache while wanet is unreachable), third-party packs and stickers created,
//! listed, updated and deleted, every validation rule of spec onprem-stickerpacks §9 with its
//! code, status and `details`; on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::files::webp;
use e2e::stack::{env, Messaging, FAST_PHONES};
use e2e::Receiver;
use serde_json::{json, Value};
use std::collections::HashMap;
use wa_store::testing::TestDb;
use wa_store::Backend;

fn stickerpacks_lifecycle(db_env: HashMap<String, String>) {
    let receiver = Receiver::start();
    let stack = Messaging::start(&db_env, FAST_PHONES, &receiver.url());
    stack.register();
    let api = stack.api();
    let admin = Some(stack.admin.as_str());
    let get = |path: &str| {
        let r = api.call("GET", path, admin, None);
        r.expect_status(200);
        r.body
    };

    // First-party packs, read-only.
    let packs = get("/v1/stickerpacks?namespace=whatsapp");
    assert!(packs["stickerpacks"]
        .as_array()
        .unwrap()
        .contains(&json!({"id": "whatsapp-komo"})));
    assert_eq!(
        get("/v1/stickerpacks/whatsapp-komo?namespace=whatsapp")["stickerpacks"],
        json!([{"publisher": "WhatsApp", "name": "Komo"}])
    );
    assert_eq!(
        get("/v1/stickerpacks/whatsapp-komo/stickers?namespace=whatsapp")["stickers"],
        json!([{"index": "0"}, {"index": "1"}, {"index": "2"}])
    );
    assert_eq!(
        get("/v1/stickerpacks/whatsapp-komo/stickers/0?namespace=whatsapp")["stickers"],
        json!([{"id": "13aaecab-2485-4255-a0a7-97a2be6906b9", "emojis": ["👍", "🐰"]}])
    );
    api.call(
        "GET",
        "/v1/stickerpacks/nope?namespace=whatsapp",
        admin,
        None,
    )
    .expect_error(404, 1006);
    first_party_packs_outlive_an_outage(&stack);

    // Third-party packs.
    assert_eq!(get("/v1/stickerpacks")["stickerpacks"], json!([]));
    let create = json!({"publisher": "Acme", "name": "Cats",
        "android_app_store_link": "https://play.google.com/store/apps/details?id=com.acme"});
    let r = api.call("POST", "/v1/stickerpacks", admin, Some(create));
    r.expect_status(201);
    let pack = r.body["stickerpacks"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        get("/v1/stickerpacks")["stickerpacks"],
        json!([{ "id": pack }])
    );
    let base = format!("/v1/stickerpacks/{pack}");
    assert_eq!(
        get(&base)["stickerpacks"],
        json!([{"publisher": "Acme", "name": "Cats",
            "android_app_store_link": "https://play.google.com/store/apps/details?id=com.acme"}])
    );
    api.call("PATCH", &base, admin, Some(json!({"name": "Dogs"})))
        .expect_status(200);
    assert_eq!(get(&base)["stickerpacks"][0]["name"], "Dogs");

    // Its stickers.
    let stickers = format!("{base}/stickers");
    let add = |body: Value| api.call("POST", &stickers, admin, Some(body));
    let images: Vec<String> = (1..=4)
        .map(|seed| upload(&stack, "image/webp", webp(512, 512, false, 20_000, seed)))
        .collect();
    let r = add(json!({"image_data_id": images[0], "emojis": ["🐥", "😃"]}));
    r.expect_status(201);
    assert_eq!(r.body["stickers"], json!([{"index": "0"}]));
    add(json!({"image_data_id": images[1]})).expect_status(201);
    assert_eq!(
        get(&stickers)["stickers"],
        json!([{"index": "0"}, {"index": "1"}])
    );
    let first = get(&format!("{stickers}/0"))["stickers"][0].clone();
    assert_eq!(first["emojis"], json!(["🐥", "😃"]));
    assert_eq!(first["image_data_id"], images[0].as_str());
    let first_id = first["id"].as_str().unwrap().to_string();
    api.call(
        "PATCH",
        &format!("{stickers}/0"),
        admin,
        Some(json!({"image_data_id": images[2]})),
    )
    .expect_status(200);
    let changed = get(&format!("{stickers}/0"))["stickers"][0].clone();
    assert_ne!(
        changed["id"],
        first_id.as_str(),
        "a new image is a new sticker id"
    );
    assert_eq!(changed["emojis"], json!(["🐥", "😃"]));
    api.call("DELETE", &format!("{stickers}/1"), admin, None)
        .expect_status(200);
    api.call("GET", &format!("{stickers}/1"), admin, None)
        .expect_error(404, 1006);
    api.call("GET", &format!("{stickers}/x"), admin, None)
        .expect_error(404, 1006);
    // Indexes are not reused.
    let r = add(json!({"image_data_id": images[3]}));
    assert_eq!(r.body["stickers"], json!([{"index": "2"}]));

    for case in validation_cases(&stack, &pack) {
        let r = api.call(case.method, &case.path, admin, case.body.clone());
        assert_eq!(
            (r.status, r.code(), r.details()),
            (case.status, case.code, case.details.as_str()),
            "{} {} {:?}: {:#?}",
            case.method,
            case.path,
            case.body,
            r.body
        );
    }

    sticker_messages(&stack, &stickers);
    full_pack(&stack);

    api.call("DELETE", &base, admin, None).expect_status(200);
    api.call("GET", &base, admin, None).expect_error(404, 1006);
    api.call("GET", &stickers, admin, None)
        .expect_error(404, 1006);
}

fn upload(stack: &Messaging, mime: &str, bytes: Vec<u8>) -> String {
    let api = stack.api();
    let request = api
        .request("POST", "/v1/media")
        .header("Authorization", &stack.admin)
        .header("Content-Type", mime)
        .body(bytes);
    let r = api.send(request);
    r.expect_status(201);
    r.body["media"][0]["id"].as_str().unwrap().to_string()
}

/// A wanet outage: the first-party packs are still listed (from the coreapp's cache, loaded
/// when the session connected), and the coreapp reconnects by itself.
fn first_party_packs_outlive_an_outage(stack: &Messaging) {
    let api = stack.api();
    let admin = Some(stack.admin.as_str());
    let (status, body) = stack.wanet.post("/control/outage", json!({"seconds": 3}));
    assert_eq!(status, 201, "{body}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while stack.gateway_status() == "connected" {
        assert!(std::time::Instant::now() < deadline, "no outage noticed");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let r = api.call("GET", "/v1/stickerpacks?namespace=whatsapp", admin, None);
    r.expect_status(200);
    assert_eq!(
        r.body["stickerpacks"],
        json!([{"id": "whatsapp-komo"}, {"id": "HowAreYou"}])
    );
    let r = api.call(
        "GET",
        "/v1/stickerpacks/HowAreYou/stickers/1?namespace=whatsapp",
        admin,
        None,
    );
    r.expect_status(200);
    assert_eq!(r.body["stickers"][0]["emojis"], json!(["🙂", "👌"]));
    assert_ne!(
        stack.gateway_status(),
        "connected",
        "the outage was too short"
    );
    stack.wait_for_gateway("connected");
}

/// One request and the error it must get.
struct Case {
    method: &'static str,
    path: String,
    body: Option<Value>,
    status: u16,
    code: u64,
    details: String,
}

/// The request and expected error for every rule of spec §9 this API can break, against the
/// third-party pack `pack` (stickers "0" and "2" exist, "1" was deleted).
fn validation_cases(stack: &Messaging, pack: &str) -> Vec<Case> {
    let base = format!("/v1/stickerpacks/{pack}");
    let stickers = format!("{base}/stickers");
    let small = upload(stack, "image/webp", webp(96, 96, false, 2_000, 7));
    let png = upload(stack, "image/png", webp(512, 512, false, 2_000, 8));
    let heavy = upload(stack, "image/webp", webp(512, 512, false, 150 * 1024, 9));
    let heavy_animated = upload(stack, "image/webp", webp(512, 512, true, 150 * 1024, 10));
    let unknown = "0b7c5d6e-0000-4000-8000-00000000beef";
    let case =
        |method: &'static str, path: &str, body: Option<Value>, status, code, details: &str| Case {
            method,
            path: path.to_string(),
            body,
            status,
            code,
            details: details.to_string(),
        };
    let pack_named = |publisher: Value, name: Value| json!({"publisher": publisher, "name": name});
    vec![
        case(
            "GET",
            "/v1/stickerpacks?namespace=martian",
            None,
            400,
            1009,
            "Parameter 'namespace' has invalid value 'martian'",
        ),
        case(
            "POST",
            "/v1/stickerpacks",
            Some(json!({"name": "x"})),
            400,
            1008,
            "Missing mandatory parameter 'publisher'",
        ),
        case(
            "POST",
            "/v1/stickerpacks",
            Some(json!({"publisher": "x"})),
            400,
            1008,
            "Missing mandatory parameter 'name'",
        ),
        case(
            "POST",
            "/v1/stickerpacks",
            Some(pack_named(json!(7), json!("n"))),
            400,
            1009,
            "Parameter 'publisher' has invalid value '7'",
        ),
        case(
            "POST",
            "/v1/stickerpacks",
            Some(pack_named(json!("p"), json!(" "))),
            400,
            1009,
            "Parameter 'name' has invalid value ' '",
        ),
        case(
            "POST",
            "/v1/stickerpacks",
            Some(pack_named(json!("p"), json!("n".repeat(129)))),
            400,
            1009,
            // Echoed values are cut at 128 characters.
            &format!(
                "Parameter 'name' has invalid value '{}...'",
                "n".repeat(128)
            ),
        ),
        case(
            "POST",
            "/v1/stickerpacks",
            Some(json!({"publisher": "p", "name": "n", "ios_app_store_link": "itunes"})),
            400,
            1009,
            "Parameter 'ios_app_store_link' has invalid value 'itunes'",
        ),
        case(
            "PATCH",
            &base,
            Some(json!({})),
            400,
            1009,
            "No valid parameters provided",
        ),
        case(
            "PATCH",
            &base,
            Some(json!({"android_app_store_link": "ftp://x"})),
            400,
            1009,
            "Parameter 'android_app_store_link' has invalid value 'ftp://x'",
        ),
        case(
            "GET",
            "/v1/stickerpacks/nope",
            None,
            404,
            1006,
            "Stickerpack nope not found",
        ),
        case(
            "PATCH",
            "/v1/stickerpacks/nope",
            Some(json!({"name": "n"})),
            404,
            1006,
            "Stickerpack nope not found",
        ),
        case(
            "DELETE",
            "/v1/stickerpacks/nope",
            None,
            404,
            1006,
            "Stickerpack nope not found",
        ),
        // Writes see only third-party packs, whatever `namespace` says.
        case(
            "PATCH",
            "/v1/stickerpacks/whatsapp-komo?namespace=whatsapp",
            Some(json!({"name": "n"})),
            404,
            1006,
            "Stickerpack whatsapp-komo not found",
        ),
        case(
            "DELETE",
            "/v1/stickerpacks/whatsapp-komo?namespace=whatsapp",
            None,
            404,
            1006,
            "Stickerpack whatsapp-komo not found",
        ),
        case(
            "POST",
            "/v1/stickerpacks/whatsapp-komo/stickers?namespace=whatsapp",
            Some(json!({"image_data_id": small})),
            404,
            1006,
            "Stickerpack whatsapp-komo not found",
        ),
        case(
            "GET",
            "/v1/stickerpacks/nope/stickers",
            None,
            404,
            1006,
            "Stickerpack nope not found",
        ),
        case(
            "GET",
            "/v1/stickerpacks/nope/stickers/0?namespace=whatsapp",
            None,
            404,
            1006,
            "Stickerpack nope not found",
        ),
        case(
            "GET",
            "/v1/stickerpacks/whatsapp-komo/stickers/9?namespace=whatsapp",
            None,
            404,
            1006,
            "Sticker 9 not found",
        ),
        case(
            "GET",
            &format!("{stickers}/1"),
            None,
            404,
            1006,
            "Sticker 1 not found",
        ),
        case(
            "GET",
            &format!("{stickers}/x"),
            None,
            404,
            1006,
            "Sticker x not found",
        ),
        case(
            "PATCH",
            &format!("{stickers}/7"),
            Some(json!({"emojis": []})),
            404,
            1006,
            "Sticker 7 not found",
        ),
        case(
            "DELETE",
            &format!("{stickers}/-1"),
            None,
            404,
            1006,
            "Sticker -1 not found",
        ),
        case(
            "PATCH",
            &format!("{stickers}/0"),
            Some(json!({})),
            400,
            1009,
            "No valid parameters provided",
        ),
        case(
            "POST",
            &stickers,
            Some(json!({"emojis": ["🐥"]})),
            400,
            1008,
            "Missing mandatory parameter 'image_data_id'",
        ),
        case(
            "POST",
            &stickers,
            Some(json!({"image_data_id": 5})),
            400,
            1009,
            "Parameter 'image_data_id' has invalid value '5'",
        ),
        case(
            "POST",
            &stickers,
            Some(json!({"image_data_id": unknown})),
            404,
            1006,
            &format!("File with id {unknown} not found"),
        ),
        case(
            "POST",
            &stickers,
            Some(json!({"image_data_id": png})),
            400,
            1009,
            "Sticker image must be image/webp, not 'image/png'",
        ),
        case(
            "POST",
            &stickers,
            Some(json!({"image_data_id": small})),
            400,
            1009,
            "Sticker image must be 512x512 pixels, not 96x96",
        ),
        case(
            "POST",
            &stickers,
            Some(json!({"image_data_id": heavy})),
            400,
            1009,
            "A static sticker image must be at most 100 KB",
        ),
        case(
            "PATCH",
            &format!("{stickers}/0"),
            Some(json!({"image_data_id": small})),
            400,
            1009,
            "Sticker image must be 512x512 pixels, not 96x96",
        ),
        case(
            "POST",
            &stickers,
            Some(json!({"image_data_id": heavy_animated, "emojis": ["a", "b", "c", "d"]})),
            400,
            1009,
            "Parameter 'emojis' has invalid value '[\"a\",\"b\",\"c\",\"d\"]'",
        ),
        case(
            "PATCH",
            &format!("{stickers}/0"),
            Some(json!({"emojis": "🐥"})),
            400,
            1009,
            "Parameter 'emojis' has invalid value '🐥'",
        ),
    ]
}

/// A pack takes at most 30 stickers (spec §7.3's suggested cap); an animated sticker may be up
/// to 500 KB.
fn full_pack(stack: &Messaging) {
    let api = stack.api();
    let admin = Some(stack.admin.as_str());
    let r = api.call(
        "POST",
        "/v1/stickerpacks",
        admin,
        Some(json!({"publisher": "Acme", "name": "Full"})),
    );
    let stickers = format!(
        "/v1/stickerpacks/{}/stickers",
        r.body["stickerpacks"][0]["id"].as_str().unwrap()
    );
    let animated = upload(stack, "image/webp", webp(512, 512, true, 400 * 1024, 11));
    for _ in 0..30 {
        api.call(
            "POST",
            &stickers,
            admin,
            Some(json!({"image_data_id": animated})),
        )
        .expect_status(201);
    }
    let r = api.call(
        "POST",
        &stickers,
        admin,
        Some(json!({"image_data_id": animated})),
    );
    r.expect_error(400, 1009);
    assert_eq!(r.details(), "Max number of stickers allowed is 30");
}

const CONSUMER: &str = "16315550188";
const FIRST_PARTY_STICKER: &str = "13aaecab-2485-4255-a0a7-97a2be6906b9";

/// Sticker messages by pack sticker id (spec onprem-stickerpacks §8): a third-party sticker
/// reaches the phone as its pack image (same digest), a first-party one as the network's own;
/// an id that is neither is 404/1006.
fn sticker_messages(stack: &Messaging, stickers: &str) {
    let api = stack.api();
    let admin = Some(stack.admin.as_str());
    let image = webp(512, 512, false, 30_000, 3);
    let image_id = upload(stack, "image/webp", image.clone());
    let r = api.call(
        "POST",
        stickers,
        admin,
        Some(json!({"image_data_id": image_id})),
    );
    r.expect_status(201);
    let index = r.body["stickers"][0]["index"].as_str().unwrap().to_string();
    let sticker = api.call("GET", &format!("{stickers}/{index}"), admin, None);
    let sticker_id = sticker.body["stickers"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    stack.wanet.consumer_says(CONSUMER, "send me a sticker");
    let send = |id: &str| {
        api.call(
            "POST",
            "/v1/messages",
            admin,
            Some(json!({"to": CONSUMER, "type": "sticker", "sticker": {"id": id}})),
        )
    };
    send(&sticker_id).expect_status(201);
    send(FIRST_PARTY_STICKER).expect_status(201);
    send("0b7c5d6e-0000-4000-8000-00000000dead").expect_error(404, 1006);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let received = loop {
        let consumer = stack.wanet.consumer(CONSUMER);
        let stickers: Vec<Value> = consumer["received"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["message"]["type"] == "sticker")
            .map(|m| m["message"]["sticker"].clone())
            .collect();
        if stickers.len() == 2 {
            break stickers;
        }
        assert!(std::time::Instant::now() < deadline, "{consumer}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let digest = e2e::files::sha256_hex(&image);
    assert!(
        received
            .iter()
            .any(|s| s["id"] == image_id.as_str() && s["sha256"] == digest.as_str()),
        "{received:?}"
    );
    assert!(
        received.iter().any(|s| s["id"] == FIRST_PARTY_STICKER),
        "{received:?}"
    );
}

fn run_on(backend: Backend) {
    let db = TestDb::new(backend);
    stickerpacks_lifecycle(env(&[("ONPREM__DATABASE__URL", &db.url)]));
}

#[test]
fn stickerpacks_on_sqlite() {
    run_on(Backend::Sqlite);
}

#[test]
fn stickerpacks_on_mysql() {
    run_on(Backend::Mysql);
}

#[test]
fn stickerpacks_on_postgres() {
    run_on(Backend::Postgres);
}
