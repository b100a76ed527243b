//! `/v1/stickerpacks` through the real stack: WhatsApp's first-party packs served by wanet,
//! third-party packs and stickers created, listed, updated and deleted; on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

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
    api.call(
        "POST",
        "/v1/stickerpacks?namespace=whatsapp",
        admin,
        Some(json!({"publisher": "p", "name": "n"})),
    )
    .expect_error(403, 1005);
    api.call("GET", "/v1/stickerpacks?namespace=martian", admin, None)
        .expect_error(400, 1009);

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
    api.call(
        "POST",
        "/v1/stickerpacks",
        admin,
        Some(json!({"name": "x"})),
    )
    .expect_error(400, 1008);
    api.call(
        "POST",
        "/v1/stickerpacks",
        admin,
        Some(json!({"publisher": "p", "name": "n", "ios_app_store_link": "itunes"})),
    )
    .expect_error(400, 1009);
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
    api.call("PATCH", &base, admin, Some(json!({})))
        .expect_error(400, 1009);
    assert_eq!(get(&base)["stickerpacks"][0]["name"], "Dogs");

    // Its stickers.
    let stickers = format!("{base}/stickers");
    let add = |body: Value| api.call("POST", &stickers, admin, Some(body));
    let r = add(
        json!({"image_data_id": "f1e2d3c4-0000-4000-8000-000000000001", "emojis": ["🐥", "😃"]}),
    );
    r.expect_status(201);
    assert_eq!(r.body["stickers"], json!([{"index": "0"}]));
    add(json!({"image_data_id": "f1e2d3c4-0000-4000-8000-000000000002"})).expect_status(201);
    add(json!({"emojis": ["🐥"]})).expect_error(400, 1008);
    add(json!({"image_data_id": "m", "emojis": ["a", "b", "c", "d"]})).expect_error(400, 1009);
    assert_eq!(
        get(&stickers)["stickers"],
        json!([{"index": "0"}, {"index": "1"}])
    );
    let first = get(&format!("{stickers}/0"))["stickers"][0].clone();
    assert_eq!(first["emojis"], json!(["🐥", "😃"]));
    assert_eq!(
        first["image_data_id"],
        "f1e2d3c4-0000-4000-8000-000000000001"
    );
    let first_id = first["id"].as_str().unwrap().to_string();
    api.call(
        "PATCH",
        &format!("{stickers}/0"),
        admin,
        Some(json!({"image_data_id": "f1e2d3c4-0000-4000-8000-000000000009"})),
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
    let r = add(json!({"image_data_id": "f1e2d3c4-0000-4000-8000-000000000003"}));
    assert_eq!(r.body["stickers"], json!([{"index": "2"}]));

    sticker_messages(&stack, &stickers);

    api.call("DELETE", &base, admin, None).expect_status(200);
    api.call("GET", &base, admin, None).expect_error(404, 1006);
    api.call("GET", &stickers, admin, None)
        .expect_error(404, 1006);
}

const CONSUMER: &str = "16315550188";
const FIRST_PARTY_STICKER: &str = "13aaecab-2485-4255-a0a7-97a2be6906b9";

/// Sticker messages by pack sticker id (spec onprem-stickerpacks §8): a third-party sticker
/// reaches the phone as its pack image (same digest), a first-party one as the network's own;
/// an id that is neither is 404/1006.
fn sticker_messages(stack: &Messaging, stickers: &str) {
    let api = stack.api();
    let admin = Some(stack.admin.as_str());
    let webp: Vec<u8> = (0..30_000u32).map(|i| (i % 253) as u8).collect();
    let upload = api
        .request("POST", "/v1/media")
        .header("Authorization", &stack.admin)
        .header("Content-Type", "image/webp")
        .body(webp.clone());
    let r = api.send(upload);
    r.expect_status(201);
    let image_id = r.body["media"][0]["id"].as_str().unwrap().to_string();
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
    let digest = e2e::files::sha256_hex(&webp);
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
