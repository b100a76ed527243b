//! Scheduled garbage collection (spec onprem-messaging §3.4/§3.5, onprem-rest
//! `garbagecollector_enable`): with a one-second `gc_interval_secs`, messages and media older
//! than the retention period stay while the collectors are switched off and disappear once a
//! PATCH switches them on, without a restart; recent ones stay. On every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{messaging_with_media, Messaging};
use serde_json::json;
use std::time::{Duration, Instant};
use wa_store::{Backend, Store};

const WAIT: Duration = Duration::from_secs(60);
/// Long enough for several scheduled runs at one a second.
const SEVERAL_RUNS: Duration = Duration::from_secs(4);
const OLD_MESSAGE: &str = "ABGGscheduledgcold";

fn switch_collectors(stack: &Messaging, on: bool) {
    stack.patch_settings(json!({ "garbagecollector_enable": { "messages": on, "media": on } }));
}

fn month_ago_secs() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    now - 31 * 24 * 3600
}

/// Makes upload `media_id` look unused for 31 days and adds an inbound message that old.
async fn age(store: &Store, media_id: &str) {
    let old = month_ago_secs();
    let mut record = store.find_media(media_id).await.unwrap().unwrap();
    store.delete_media(media_id).await.unwrap();
    record.created_at = old;
    record.last_used_at = old;
    store.insert_media(record).await.unwrap();
    let message = wa_store::InboundMessage {
        id: OLD_MESSAGE.into(),
        from: "16315550111".into(),
        msg_type: "text".into(),
        payload: "{}".into(),
        received_ms: old * 1000,
    };
    let callback = wa_store::NewCallback {
        event_key: format!("inbound:{OLD_MESSAGE}"),
        kind: "inbound_message".into(),
        body: json!({ "messages": [ { "id": OLD_MESSAGE } ] }).to_string(),
        cloud: false,
    };
    store.insert_inbound(message, callback).await.unwrap();
}

/// (old message kept, old media kept, recent media kept)
async fn what_is_left(store: &Store, old_media: &str, recent_media: &str) -> (bool, bool, bool) {
    (
        store.find_message(OLD_MESSAGE).await.unwrap().is_some(),
        store.find_media(old_media).await.unwrap().is_some(),
        store.find_media(recent_media).await.unwrap().is_some(),
    )
}

fn scheduled_collection_follows_the_setting(backend: Backend) {
    let media_dir = tempfile::tempdir().unwrap();
    let gc_every_second = [("ONPREM__COREAPP__GC_INTERVAL_SECS", "1")];
    let (db, _receiver, stack) = messaging_with_media(backend, media_dir.path(), &gc_every_second);
    switch_collectors(&stack, false);
    let old_media = stack.upload_media("image/png", &[1u8; 500]);
    let recent_media = stack.upload_media("image/png", &[2u8; 500]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime.block_on(Store::connect(&db.config())).unwrap();
    runtime.block_on(age(&store, &old_media));

    std::thread::sleep(SEVERAL_RUNS);
    let left = runtime.block_on(what_is_left(&store, &old_media, &recent_media));
    assert_eq!(left, (true, true, true), "collected while switched off");

    switch_collectors(&stack, true);
    let deadline = Instant::now() + WAIT;
    loop {
        let left = runtime.block_on(what_is_left(&store, &old_media, &recent_media));
        if left == (false, false, true) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "left after switching on: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let shared = media_dir.path().join("shared");
    assert!(!shared.join(&old_media).exists());
    assert!(shared.join(&recent_media).exists());
}

#[test]
fn scheduled_gc_on_sqlite() {
    scheduled_collection_follows_the_setting(Backend::Sqlite);
}

#[test]
fn scheduled_gc_on_mysql() {
    scheduled_collection_follows_the_setting(Backend::Mysql);
}

#[test]
fn scheduled_gc_on_postgres() {
    scheduled_collection_follows_the_setting(Backend::Postgres);
}
