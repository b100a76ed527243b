//! The end of a throttle reaches the business's sessions at once (`SendingResumed`): when the
//! control API lifts it, and when its length has run, so a coreapp waiting out a long pause
//! sends without asking again. Notices are about the moment: a session that connects later
//! does not get an old one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{test_config, Client, Net, BUSINESS, CONSUMER, WAIT};
use serde_json::{json, Value};
use wa_netproto::{Push, ResumeReason};
use wanet::{RateLimitPreset, WanetConfig};

/// Sends texts until the network refuses one with 429; returns the refusal's details.
async fn send_until_throttled(session: &mut Client, prefix: &str) -> String {
    for n in 0..40 {
        match session
            .send_text(&format!("gBGG{prefix}{n}"), CONSUMER, "hi")
            .await
        {
            Ok(_) => continue,
            Err(e) if e.code == 429 => return e.details.unwrap_or_default(),
            Err(e) => panic!("unexpected refusal: {e:?}"),
        }
    }
    panic!("never throttled");
}

/// Acks pushes until a `SendingResumed`; returns its reason.
async fn resumed(session: &mut Client) -> ResumeReason {
    let wait = async {
        loop {
            if let Push::SendingResumed { reason } = session.next_push_acked().await {
                return reason;
            }
        }
    };
    tokio::time::timeout(WAIT, wait)
        .await
        .expect("no SendingResumed notice")
}

async fn limits(net: &Net) -> Value {
    let (_, limits) = net
        .get(&format!("/control/businesses/{BUSINESS}/limits"))
        .await;
    limits
}

#[tokio::test]
async fn a_lift_and_an_end_are_announced_to_the_session() {
    let net = Net::start_with(WanetConfig {
        rate_limits: RateLimitPreset::Strict,
        // Light throttling lasts 300 ms, moderate 3.6 s, severe 86 s or more.
        time_scale: 0.001,
        ..test_config()
    })
    .await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    net.consumer_says(CONSUMER, "open the window").await;
    session.next_push_acked().await;

    let light = send_until_throttled(&mut session, "a").await;
    assert!(light.contains("light"), "{light}");
    assert_eq!(resumed(&mut session).await, ResumeReason::Ended);

    let moderate = send_until_throttled(&mut session, "b").await;
    assert!(moderate.contains("moderate"), "{moderate}");
    let (status, body) = net
        .post(
            &format!("/control/businesses/{BUSINESS}/limits"),
            json!({"lift_throttling": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(resumed(&mut session).await, ResumeReason::Lifted);
    assert!(limits(&net).await["throttling"].is_null());
    // The lift forgot the escalation: the next violation is light again, and sends go at once.
    session
        .send_text("gBGGafter", CONSUMER, "hi")
        .await
        .unwrap();

    // A lift with nothing to lift announces nothing; a session attached later hears of
    // nothing that ended before it.
    drop(session);
    let light = {
        let mut s = net.business_session(&credentials).await;
        let details = send_until_throttled(&mut s, "c").await;
        drop(s);
        details
    };
    assert!(light.contains("light"), "{light}");
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let mut later = net.business_session(&credentials).await;
    net.post(
        &format!("/control/businesses/{BUSINESS}/limits"),
        json!({"lift_throttling": true}),
    )
    .await;
    net.consumer_says(CONSUMER, "still there?").await;
    let next = tokio::time::timeout(WAIT, later.next_push_acked())
        .await
        .unwrap();
    assert!(matches!(next, Push::Inbound { .. }), "{next:?}");
}
