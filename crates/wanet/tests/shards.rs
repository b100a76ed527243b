//! Multiconnect sessions over real TLS: one session per shard of a number, each carrying only
//! the consumers of its shard, fenced by the lease epoch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, Net, BUSINESS, WAIT};
use serde_json::Value;
use wa_api::cluster::shard_of;
use wa_netproto::{Credentials, Push, Request, Response, SessionScope, STALE_SHARD_EPOCH};

fn shard(index: u32, count: u32, epoch: i64) -> SessionScope {
    SessionScope::Shard {
        index,
        count,
        epoch,
    }
}

/// `n` consumer numbers in shard `index` of `count`.
fn consumers_in(index: u32, count: u32, n: usize) -> Vec<String> {
    (0..1000)
        .map(|k| format!("1631555{k:04}"))
        .filter(|wa_id| shard_of(wa_id, count) == index)
        .take(n)
        .collect()
}

async fn hello(client: &mut Client, credentials: &Credentials, scope: SessionScope) -> Response {
    client
        .request(Request::Hello {
            client_version: "test".into(),
            credentials: Some(credentials.clone()),
            scope,
        })
        .await
        .expect("the network accepts the session")
}

/// A session for `scope` whose (empty or not) backlog has been drained.
async fn shard_session(net: &Net, credentials: &Credentials, scope: SessionScope) -> Client {
    let mut client = net.connect().await;
    hello(&mut client, credentials, scope).await;
    client.drain_backlog().await;
    client
}

/// The `from` of the next `n` inbound pushes (receipts are skipped).
async fn inbound_senders(client: &mut Client, n: usize) -> Vec<String> {
    let mut senders = Vec::new();
    while senders.len() < n {
        let push = tokio::time::timeout(WAIT, client.next_push_acked())
            .await
            .expect("an inbound push arrives");
        if let Push::Inbound { from, .. } = push {
            senders.push(from);
        }
    }
    senders
}

async fn shards_view(net: &Net) -> Value {
    let (status, body) = net
        .get(&format!("/control/businesses/{BUSINESS}/shards"))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn two_shard_sessions_get_only_their_consumers_pushes() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut sessions = [
        shard_session(&net, &credentials, shard(0, 2, 1)).await,
        shard_session(&net, &credentials, shard(1, 2, 1)).await,
    ];
    let consumers = [consumers_in(0, 2, 3), consumers_in(1, 2, 3)];
    for wa_id in consumers.iter().flatten() {
        net.consumer_says(wa_id, "hello").await;
    }
    for (index, session) in sessions.iter_mut().enumerate() {
        let mut senders = inbound_senders(session, 3).await;
        senders.sort();
        assert_eq!(
            senders, consumers[index],
            "shard {index} carries only its consumers"
        );
    }

    // A send inside the session's shard is accepted; one outside it is refused with 1018.
    let [first, second] = &mut sessions;
    first
        .send_text("gBGGshard0", &consumers[0][0], "hi")
        .await
        .unwrap();
    let refused = first
        .send_text("gBGGshard1", &consumers[1][0], "hi")
        .await
        .unwrap_err();
    assert_eq!(refused.code, STALE_SHARD_EPOCH, "{refused:?}");
    second
        .send_text("gBGGshard1", &consumers[1][0], "hi")
        .await
        .unwrap();

    let view = shards_view(&net).await;
    let sessions = view["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{view}");
    for (index, session) in sessions.iter().enumerate() {
        assert_eq!(session["kind"], "shard", "{view}");
        assert_eq!(session["shard_index"], index, "{view}");
        assert_eq!(session["shard_count"], 2, "{view}");
        assert_eq!(session["epoch"], 1, "{view}");
        assert_eq!(session["accepted_sends"], 1, "{view}");
    }
    assert_eq!(sessions[0]["refused_sends"], 1, "{view}");
}

#[tokio::test]
async fn an_older_epoch_is_refused_with_1018() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut holder = shard_session(&net, &credentials, shard(0, 2, 5)).await;

    let mut stale = net.connect().await;
    let refused = stale
        .request(Request::Hello {
            client_version: "test".into(),
            credentials: Some(credentials.clone()),
            scope: shard(0, 2, 4),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code, STALE_SHARD_EPOCH, "{refused:?}");

    // The holder is untouched and still carries its shard.
    assert_eq!(holder.ping(1).await, 1);
    let view = shards_view(&net).await;
    assert_eq!(view["sessions"].as_array().unwrap().len(), 1, "{view}");
    assert_eq!(view["sessions"][0]["epoch"], 5, "{view}");
    let consumer = consumers_in(0, 2, 1).remove(0);
    net.consumer_says(&consumer, "still there?").await;
    assert_eq!(inbound_senders(&mut holder, 1).await, [consumer]);
}

#[tokio::test]
async fn a_newer_epoch_replaces_the_old_session() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut old = shard_session(&net, &credentials, shard(0, 2, 5)).await;
    let consumer = consumers_in(0, 2, 1).remove(0);
    net.consumer_says(&consumer, "taken, never acked").await;
    // The old session receives the push but does not acknowledge it before it is replaced.
    let (_, push) = tokio::time::timeout(WAIT, old.next_push()).await.unwrap();
    assert!(matches!(push, Push::Inbound { .. }), "{push:?}");

    let mut new = net.connect().await;
    let welcome = hello(&mut new, &credentials, shard(0, 2, 6)).await;
    assert!(
        matches!(welcome, Response::Welcome { backlog: 1, .. }),
        "the unacked push is the new session's backlog: {welcome:?}"
    );
    tokio::time::timeout(WAIT, old.wait_closed())
        .await
        .expect("the replaced session is closed");
    let backlog = new.drain_backlog().await;
    assert!(
        matches!(&backlog[..], [Push::Inbound { from, .. }] if *from == consumer),
        "{backlog:?}"
    );

    let view = shards_view(&net).await;
    assert_eq!(view["sessions"].as_array().unwrap().len(), 1, "{view}");
    assert_eq!(view["sessions"][0]["epoch"], 6, "{view}");
}
