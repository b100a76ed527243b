//! `/v1/media` through the real webapp, coreapp and wanet (spec onprem-messaging §5): upload,
//! download and delete on every backend, the spec's errors, inbound media downloaded before the
//! webhook, sends by id reaching the phone, and a 100 MB upload with bounded memory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::files::{b64, sha256_hex};
use e2e::files::{serve_files, ServedFile};
use e2e::stack::{messaging_with_media, Messaging, BUSINESS_WA_ID};
use e2e::{Receiver, Reply};
use serde_json::json;
use std::io::Read;
use std::time::Duration;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);
const CONSUMER: &str = "16315550177";

fn upload(stack: &Messaging, mime: Option<&str>, bytes: Vec<u8>) -> Reply {
    let mut request = stack
        .api()
        .request("POST", "/v1/media")
        .header("Authorization", &stack.admin)
        .body(bytes);
    if let Some(mime) = mime {
        request = request.header("Content-Type", mime);
    }
    stack.api().send(request)
}

/// `GET /v1/media/{id}`: status, Content-Type and the raw bytes.
fn download(stack: &Messaging, id: &str) -> (u16, String, Vec<u8>) {
    let response = stack.get_media(id);
    let status = response.status().as_u16();
    let mime = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, mime, response.bytes().unwrap().to_vec())
}

fn media_round_trip(backend: Backend) {
    let media_dir = tempfile::tempdir().unwrap();
    let (_db, receiver, stack) = messaging_with_media(backend, media_dir.path(), &[]);
    let jpeg: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();

    let r = upload(&stack, Some("image/jpeg"), jpeg.clone());
    r.expect_status(201);
    let id = r.body["media"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    assert!(media_dir.path().join("shared").join(&id).exists());
    assert_eq!(download(&stack, &id), (200, "image/jpeg".into(), jpeg));

    let api = stack.api();
    let path = format!("/v1/media/{id}");
    api.call("DELETE", &path, Some(&stack.admin), None)
        .expect_status(200);
    assert_eq!(download(&stack, &id).0, 404);
    assert!(!media_dir.path().join("shared").join(&id).exists());
    api.call("DELETE", &path, Some(&stack.admin), None)
        .expect_error(404, 1006);
    assert_eq!(
        download(&stack, "f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68").0,
        404
    );
    assert_eq!(download(&stack, "..%2F..%2Fetc%2Fpasswd").0, 404);

    // The spec's errors (§5.1, §5.3).
    let r = upload(&stack, None, b"abc".to_vec());
    r.expect_error(400, 1008);
    assert_eq!(r.details(), "Content-Type missing");
    let r = upload(&stack, Some("application/pdf"), Vec::new());
    r.expect_error(400, 1008);
    assert_eq!(r.details(), "Request had no (empty) content");
    upload(&stack, Some("audio/ogg"), b"not opus".to_vec()).expect_error(400, 1009);
    upload(&stack, Some("image/gif"), b"GIF89a".to_vec()).expect_error(400, 1009);
    let r = upload(&stack, Some("image/png"), vec![1u8; 5 * 1024 * 1024 + 1]);
    r.expect_error(400, 1009);
    assert_eq!(r.details(), "Media of type image exceeds the 5 MB limit");
    upload(&stack, Some("image/webp"), vec![1u8; 600 * 1024]).expect_error(400, 1009);
    // Without a token: 401, and nothing is written.
    let anonymous = api
        .request("POST", "/v1/media")
        .header("Content-Type", "image/png")
        .body(vec![1u8; 10]);
    api.send(anonymous).expect_error(401, 1005);
    let files = std::fs::read_dir(media_dir.path().join("shared")).unwrap();
    assert_eq!(files.count(), 0, "failed uploads leave no file behind");

    inbound_media_is_downloaded_before_the_webhook(&stack, &receiver);
}

/// A consumer's image arrives with auto-download on: the webhook has a local id whose bytes are
/// the consumer's; a document with auto-download off for documents is `undownloaded`.
fn inbound_media_is_downloaded_before_the_webhook(stack: &Messaging, receiver: &Receiver) {
    stack.register();
    stack.patch_settings(json!({ "media": { "auto_download": ["image", "voice"] } }));
    let photo: Vec<u8> = (0..2_500_000u32).map(|i| (i % 253) as u8).collect();
    // The consumer's phone uploads the photo to the network, then sends the message with its id.
    let uploaded: serde_json::Value = reqwest::blocking::Client::new()
        .post(format!(
            "http://127.0.0.1:{}/control/media",
            stack.wanet.control_port
        ))
        .header("Content-Type", "image/jpeg")
        .body(photo.clone())
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(uploaded["sha256"], sha256_hex(&photo));
    let sent = json!({ "type": "image",
        "image": { "id": uploaded["id"], "caption": "Check out my new phone!" } });
    let message_id = stack.wanet.consumer_sends(CONSUMER, sent);
    let message = receiver.wait_for_inbound(WAIT, &message_id);
    let image = &message["image"];
    let local_id = image["id"].as_str().unwrap();
    assert_eq!(
        image,
        &json!({ "caption": "Check out my new phone!", "id": local_id,
                 "mime_type": "image/jpeg", "sha256": sha256_hex(&photo) })
    );
    assert_eq!(download(stack, local_id), (200, "image/jpeg".into(), photo));

    let sent = json!({ "type": "document",
        "document": { "mime_type": "application/pdf", "filename": "songs.pdf", "data_b64": b64(b"%PDF-1.4") } });
    let message_id = stack.wanet.consumer_sends(CONSUMER, sent);
    let message = receiver.wait_for_inbound(WAIT, &message_id);
    assert_eq!(
        message["document"],
        json!({ "filename": "songs.pdf", "mime_type": "application/pdf",
                "sha256": sha256_hex(b"%PDF-1.4"), "status": "undownloaded" })
    );
}

#[test]
fn media_round_trip_on_sqlite() {
    media_round_trip(Backend::Sqlite);
}

#[test]
fn media_round_trip_on_mysql() {
    media_round_trip(Backend::Mysql);
}

#[test]
fn media_round_trip_on_postgres() {
    media_round_trip(Backend::Postgres);
}

#[test]
fn media_sent_by_id_and_link_on_sqlite() {
    media_sent_by_id_and_link(Backend::Sqlite);
}

#[test]
fn media_sent_by_id_and_link_on_mysql() {
    media_sent_by_id_and_link(Backend::Mysql);
}

#[test]
fn media_sent_by_id_and_link_on_postgres() {
    media_sent_by_id_and_link(Backend::Postgres);
}

/// The phone's copy of the first received message of `kind`, once it has arrived.
fn received_of_kind(stack: &Messaging, kind: &str, skip: usize) -> serde_json::Value {
    stack.wanet.wait_for_received(CONSUMER, WAIT, |received| {
        received
            .iter()
            .filter(|m| m["message"]["type"] == kind)
            .nth(skip)
            .cloned()
    })
}

/// What the network holds for the media of a message the phone received: (sha256, size).
fn phone_media(stack: &Messaging, received: &serde_json::Value, kind: &str) -> (String, u64) {
    let phone_id = received["message"][kind]["id"].as_str().unwrap();
    let (status, held) = stack.wanet.get(&format!("/control/media/{phone_id}"));
    assert_eq!(status, 200, "{held}");
    (
        held["sha256"].as_str().unwrap().to_string(),
        held["size"].as_u64().unwrap(),
    )
}

/// Upload then send by id, and send by link through a provider with credentials: the phone
/// holds the same bytes each time (their sha256, computed by wanet). Unknown ids and links the
/// provider refuses are answered synchronously.
fn media_sent_by_id_and_link(backend: Backend) {
    let media_dir = tempfile::tempdir().unwrap();
    let (_db, _receiver, stack) = messaging_with_media(backend, media_dir.path(), &[]);
    stack.register();
    stack.wanet.consumer_says(CONSUMER, "send me the receipt");
    let pdf: Vec<u8> = (0..3_000_000u32).map(|i| (i % 241) as u8).collect();
    let r = upload(&stack, Some("application/pdf"), pdf.clone());
    r.expect_status(201);
    let media_id = r.body["media"][0]["id"].as_str().unwrap().to_string();
    let message = json!({ "to": CONSUMER, "type": "document",
        "document": { "id": media_id, "caption": "Invoice", "filename": "invoice.pdf" } });
    let r = stack
        .api()
        .call("POST", "/v1/messages", Some(&stack.admin), Some(message));
    r.expect_status(201);
    let received = received_of_kind(&stack, "document", 0);
    assert_eq!(
        phone_media(&stack, &received, "document"),
        (sha256_hex(&pdf), pdf.len() as u64)
    );
    // Unknown media ids are refused synchronously.
    let message = json!({ "to": CONSUMER, "type": "image",
        "image": { "id": "f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68" } });
    stack
        .api()
        .call("POST", "/v1/messages", Some(&stack.admin), Some(message))
        .expect_error(404, 1006);

    // By link: fetched with the provider's Basic credentials.
    let jpeg: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let files = vec![ServedFile::new("/files/photo", "image/jpeg", jpeg.clone())];
    let link = format!(
        "{}/files/photo",
        serve_files(files, Some(("user", "secret")))
    );
    let image_by_link = |provider: Option<&str>| {
        let mut image = json!({ "link": link, "caption": "by link" });
        if let Some(name) = provider {
            image["provider"] = json!({ "name": name });
        }
        json!({ "to": CONSUMER, "type": "image", "image": image })
    };
    let r = stack.api().call(
        "POST",
        "/v1/messages",
        Some(&stack.admin),
        Some(image_by_link(None)),
    );
    assert!(
        r.status >= 400 && r.status < 500,
        "a refused download is the caller's error: {r:?}"
    );
    let provider = json!([{ "name": "cdn", "type": "www",
        "config": { "basic": { "username": "user", "password": "secret" } } }]);
    stack.set_media_providers(provider);
    let r = stack.api().call(
        "POST",
        "/v1/messages",
        Some(&stack.admin),
        Some(image_by_link(Some("cdn"))),
    );
    r.expect_status(201);
    let received = received_of_kind(&stack, "image", 0);
    assert_eq!(
        phone_media(&stack, &received, "image"),
        (sha256_hex(&jpeg), jpeg.len() as u64)
    );
    let _ = BUSINESS_WA_ID;
}

/// A body of `len` bytes produced on the fly, so the test itself holds no 100 MB buffer.
struct Generated {
    remaining: u64,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.remaining as usize);
        buf[..n].fill(0x5a);
        self.remaining -= n as u64;
        Ok(n)
    }
}

fn upload_generated(stack: &Messaging, len: u64) -> Reply {
    let body = reqwest::blocking::Body::sized(Generated { remaining: len }, len);
    stack.post_media("application/pdf", body)
}

/// Peak resident memory of a process, in bytes (`VmHWM` of `/proc/<pid>/status`).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

#[test]
fn a_100_mb_upload_streams_with_bounded_memory() {
    const LIMIT: u64 = 100 * 1024 * 1024;
    let media_dir = tempfile::tempdir().unwrap();
    let (_db, _receiver, stack) = messaging_with_media(Backend::Sqlite, media_dir.path(), &[]);
    let r = upload_generated(&stack, LIMIT);
    r.expect_status(201);
    let id = r.body["media"][0]["id"].as_str().unwrap();
    let file = media_dir.path().join("shared").join(id);
    assert_eq!(std::fs::metadata(&file).unwrap().len(), LIMIT);
    // Download it too: streamed back, byte count and content checked without keeping it.
    let mut response = stack.get_media(id);
    assert_eq!(response.status().as_u16(), 200);
    let mut buffer = vec![0u8; 1 << 20];
    let (mut total, mut all_expected) = (0u64, true);
    loop {
        let n = response.read(&mut buffer).unwrap();
        if n == 0 {
            break;
        }
        all_expected &= buffer[..n].iter().all(|b| *b == 0x5a);
        total += n as u64;
    }
    assert_eq!((total, all_expected), (LIMIT, true));

    let r = upload_generated(&stack, LIMIT + 1);
    r.expect_error(400, 1009);
    assert_eq!(r.details(), "Request content exceeds size of 100 MB");

    let (web, core) = (
        peak_rss(stack.web.service.pid()),
        peak_rss(stack.core.pid()),
    );
    eprintln!("peak RSS after a 100 MB upload and download: webapp {web} B, coreapp {core} B");
    let bound = 60 * 1024 * 1024;
    assert!(web < bound, "webapp peak RSS {web} bytes");
    assert!(core < bound, "coreapp peak RSS {core} bytes");
}

/// Media providers (spec onprem-rest §8.5) and the garbage collectors (§8.12): media unused for
/// 30 days and old messages go, each collection reports by webhook; recent ones stay.
fn providers_and_garbage_collection(backend: Backend) {
    let media_dir = tempfile::tempdir().unwrap();
    let (db, receiver, stack) = messaging_with_media(backend, media_dir.path(), &[]);
    let (api, admin) = (stack.api(), Some(stack.admin.as_str()));
    let path = "/v1/settings/application/media/providers";

    let bearer =
        json!([{ "name": "my-api", "type": "www", "config": { "bearer": "token-value" } }]);
    api.call("POST", path, admin, Some(bearer))
        .expect_status(200);
    let basic = json!([{ "name": "my-cdn", "type": "www",
                         "config": { "basic": { "username": "u", "password": "p" } } }]);
    api.call("POST", path, admin, Some(basic))
        .expect_status(200);
    let r = api.call("GET", path, admin, None);
    r.expect_status(200);
    assert_eq!(
        r.body["settings"]["application"]["media"]["providers"],
        json!([{ "name": "my-api", "type": "www", "config": { "bearer": "token-value" } },
               { "name": "my-cdn", "type": "www", "config": { "basic": { "username": "u", "password": "p" } } }])
    );
    let two = json!([{ "name": "a" }, { "name": "b" }]);
    let r = api.call("POST", path, admin, Some(two));
    r.expect_error(400, 1009);
    assert_eq!(r.details(), "Can only add 1 config at a time");
    api.call(
        "POST",
        path,
        admin,
        Some(json!([{ "type": "www", "config": { "bearer": "t" } }])),
    )
    .expect_error(400, 1008);
    api.call(
        "POST",
        path,
        admin,
        Some(json!([{ "name": "x", "type": "ftp", "config": { "bearer": "t" } }])),
    )
    .expect_error(400, 1009);
    api.call("DELETE", &format!("{path}/my-api"), admin, None)
        .expect_status(200);
    api.call("DELETE", &format!("{path}/my-api"), admin, None)
        .expect_error(404, 1006);
    let r = api.call("GET", path, admin, None);
    assert_eq!(
        r.body["settings"]["application"]["media"]["providers"][0]["name"],
        "my-cdn"
    );

    // One fresh upload, one that has not been used for 31 days.
    let fresh = upload(&stack, Some("image/png"), vec![7u8; 1000]);
    let fresh_id = fresh.body["media"][0]["id"].as_str().unwrap().to_string();
    let stale = upload(&stack, Some("image/png"), vec![8u8; 1000]);
    let stale_id = stale.body["media"][0]["id"].as_str().unwrap().to_string();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime
        .block_on(wa_store::Store::connect(&db.config()))
        .unwrap();
    let month_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - 31 * 24 * 3600;
    runtime.block_on(async {
        store.delete_media(&stale_id).await.unwrap();
        let record = wa_store::MediaRecord {
            id: stale_id.clone(),
            mime_type: "image/png".into(),
            sha256: "00".repeat(32),
            size_bytes: 1000,
            created_at: month_ago,
            last_used_at: month_ago,
        };
        store.insert_media(record).await.unwrap();
        let old = wa_store::InboundMessage {
            id: "ABGGold".into(),
            from: "16315550111".into(),
            msg_type: "text".into(),
            payload: "{}".into(),
            received_ms: month_ago * 1000,
        };
        let callback = wa_store::NewCallback {
            event_key: "inbound:ABGGold".into(),
            kind: "inbound_message".into(),
            body: json!({ "messages": [ { "id": "ABGGold" } ] }).to_string(),
            cloud: false,
        };
        store.insert_inbound(old, callback).await.unwrap();
    });

    let r = api.call("PUT", "/v1/services/media/gc", admin, None);
    r.expect_status(200);
    assert_eq!(
        r.body["services"],
        json!({ "media": { "gc": { "status": "processing" } } })
    );
    receiver.wait_until(WAIT, "the media gc webhook", |b| {
        b.contains(&json!({ "services": [ { "media": { "gc": { "items_deleted": 1, "status": "complete" } } } ] }))
    });
    assert_eq!(download(&stack, &stale_id).0, 404);
    assert!(!media_dir.path().join("shared").join(&stale_id).exists());
    assert_eq!(download(&stack, &fresh_id).0, 200);

    let r = api.call("PUT", "/v1/services/message/gc", admin, None);
    r.expect_status(200);
    assert_eq!(
        r.body["services"],
        json!({ "message": { "gc": { "status": "processing" } } })
    );
    receiver.wait_until(WAIT, "the message gc webhook", |b| {
        b.contains(&json!({ "services": [ { "message": { "gc": { "messages_deleted": 1, "status": "complete" } } } ] }))
    });
    let gone = runtime.block_on(store.find_message("ABGGold")).unwrap();
    assert!(gone.is_none());
}

#[test]
fn providers_and_garbage_collection_on_sqlite() {
    providers_and_garbage_collection(Backend::Sqlite);
}

#[test]
fn providers_and_garbage_collection_on_mysql() {
    providers_and_garbage_collection(Backend::Mysql);
}

#[test]
fn providers_and_garbage_collection_on_postgres() {
    providers_and_garbage_collection(Backend::Postgres);
}
