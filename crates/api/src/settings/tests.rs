#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn details(error: &ApiError) -> (u32, String) {
    (
        error.first_code(),
        error.errors[0].details.clone().unwrap_or_default(),
    )
}

fn patched(patch: Value) -> ApplicationSettings {
    let mut settings = ApplicationSettings::default();
    settings.apply_patch(&patch).unwrap();
    settings
}

fn rejected(patch: Value) -> (u32, String) {
    let mut settings = ApplicationSettings::default();
    let error = settings.apply_patch(&patch).unwrap_err();
    assert_eq!(error.status, 400);
    assert_eq!(
        settings,
        ApplicationSettings::default(),
        "nothing may change"
    );
    details(&error)
}

#[test]
fn defaults_match_the_field_table() {
    let json = ApplicationSettings::default().to_json();
    assert_eq!(
        json,
        json!({
            "callback_backoff_delay_ms": 3000,
            "max_callback_backoff_delay_ms": 900000,
            "callback_persist": true,
            "webhooks": {
                "url": "",
                "max_concurrent_requests": 6,
                "message": { "delivered": true, "read": true },
            },
            "sent_status": true,
            "media": { "auto_download": ["image", "video", "voice", "sticker", "audio", "document"] },
            "garbagecollector_enable": { "media": false, "messages": true },
            "db_garbagecollector_enable": true,
            "pass_through": false,
            "heartbeat_interval": 5,
            "unhealthy_interval": 30,
            "notify_user_change_number": true,
            "show_security_notifications": false,
            "wa_id": "",
            "skip_referral_media_download": false,
            "webhook_payload_conversation_pricingmodel_disabled": false,
            "axolotl_context_striping_disabled": false,
            "verbose_logging": false,
            "log_level": "info",
        })
    );
}

#[test]
fn webhook_accessors_on_defaults() {
    let settings = ApplicationSettings::default();
    assert_eq!(settings.webhook_url(), None);
    assert_eq!(settings.max_concurrent_callbacks(), 6);
    assert_eq!(
        settings.callback_backoff(),
        (Duration::from_millis(3000), Duration::from_millis(900_000))
    );
    for status in [
        MessageStatus::Sent,
        MessageStatus::Delivered,
        MessageStatus::Read,
        MessageStatus::Failed,
        MessageStatus::Deleted,
    ] {
        assert!(settings.status_webhook_enabled(status), "{status}");
    }
    assert!(settings.auto_downloads("voice"));
    assert!(!settings.auto_downloads("location"));
}

#[test]
fn nested_objects_are_merged() {
    let mut settings = patched(json!({
        "webhooks": { "url": "https://hooks.example.com/wa", "max_concurrent_requests": 12 },
    }));
    settings
        .apply_patch(&json!({ "webhooks": { "message": { "read": false } } }))
        .unwrap();
    settings
        .apply_patch(&json!({ "webhooks": { "message": { "sent": false } } }))
        .unwrap();
    assert_eq!(settings.webhook_url(), Some("https://hooks.example.com/wa"));
    assert_eq!(settings.max_concurrent_callbacks(), 12);
    assert_eq!(
        settings.webhooks.message,
        MessageWebhookSwitches {
            sent: Some(false),
            delivered: true,
            read: false
        }
    );
    settings
        .apply_patch(&json!({ "garbagecollector_enable": { "media": true } }))
        .unwrap();
    assert_eq!(
        settings.garbagecollector_enable,
        GarbageCollectorSettings {
            media: true,
            messages: true
        }
    );
    settings
        .apply_patch(&json!({ "webhooks": { "url": "" } }))
        .unwrap();
    assert_eq!(settings.webhook_url(), None);
    assert_eq!(settings.max_concurrent_callbacks(), 12);
}

#[test]
fn the_postman_example_applies() {
    let settings = patched(json!({
        "callback_backoff_delay_ms": "3000",
        "max_callback_backoff_delay_ms": 900000,
        "callback_persist": true,
        "media": { "auto_download": ["image", "document", "audio"] },
        "webhooks": { "url": "https://hooks.example.com/wa", "max_concurrent_requests": 12 },
        "sent_status": false,
        "db_garbagecollector_enable": false,
    }));
    assert_eq!(
        settings.media.auto_download,
        vec![MediaType::Image, MediaType::Document, MediaType::Audio]
    );
    assert!(!settings.status_webhook_enabled(MessageStatus::Sent));
    assert!(!settings.garbagecollector_enable.messages);
    assert_eq!(settings.to_json()["callback_backoff_delay_ms"], json!(3000));
}

#[test]
fn sent_switch_wins_over_the_legacy_flag() {
    let mut settings = patched(json!({ "sent_status": false }));
    assert!(!settings.status_webhook_enabled(MessageStatus::Sent));
    settings
        .apply_patch(&json!({ "webhooks": { "message": { "sent": true } } }))
        .unwrap();
    assert!(settings.status_webhook_enabled(MessageStatus::Sent));
    assert_eq!(
        settings.to_json()["webhooks"]["message"]["sent"],
        json!(true)
    );
    let settings = patched(json!({ "webhooks": { "message": { "delivered": false } } }));
    assert!(!settings.status_webhook_enabled(MessageStatus::Delivered));
    assert!(settings.status_webhook_enabled(MessageStatus::Failed));
}

#[test]
fn the_legacy_gc_switch_is_an_alias_the_newer_object_overrides() {
    let settings = patched(json!({
        "db_garbagecollector_enable": false,
        "garbagecollector_enable": { "messages": true },
    }));
    assert!(settings.garbagecollector_enable.messages);
    assert_eq!(
        settings.to_json()["db_garbagecollector_enable"],
        json!(true)
    );
}

#[test]
fn nothing_recognised_is_1009() {
    let expected = (1009, "No valid parameters provided".to_string());
    assert_eq!(rejected(json!({})), expected);
    assert_eq!(rejected(json!({ "unknown": 1, "wa_id": "123" })), expected);
    assert_eq!(rejected(json!([1, 2])), expected);
    assert_eq!(rejected(json!("webhooks")), expected);
}

#[test]
fn unknown_keys_are_ignored_next_to_known_ones() {
    let settings = patched(json!({ "verbose_logging": true, "frobnicate": 3 }));
    assert!(settings.verbose_logging);
}

#[test]
fn legacy_keys_are_accepted_and_ignored() {
    let settings = patched(json!({
        "messaging_api_rate_limit": ["15", "54600", "1000000"],
        "contacts_scrape_rate_limit": "1000000",
    }));
    assert_eq!(settings, ApplicationSettings::default());
    assert_eq!(
        rejected(json!({ "allow_nonexistent_users": "yes" })),
        (
            1009,
            "Parameter 'allow_nonexistent_users' has invalid value 'yes'".to_string()
        )
    );
}

#[test]
fn booleans_must_be_json_booleans() {
    assert_eq!(
        rejected(json!({ "sent_status": "true" })),
        (
            1009,
            "Parameter 'sent_status' has invalid value 'true'".to_string()
        )
    );
    assert_eq!(
        rejected(json!({ "callback_persist": 1 })).1,
        "Parameter 'callback_persist' has invalid value '1'"
    );
    assert_eq!(
        rejected(json!({ "webhooks": { "message": { "read": null } } })).1,
        "Parameter 'webhooks.message.read' has invalid value 'null'"
    );
    assert_eq!(
        rejected(json!({ "garbagecollector_enable": { "media": "no" } })).1,
        "Parameter 'garbagecollector_enable.media' has invalid value 'no'"
    );
}

#[test]
fn integers_accept_numbers_and_digit_strings_in_range() {
    let settings = patched(
        json!({ "callback_backoff_delay_ms": "100", "max_callback_backoff_delay_ms": 400 }),
    );
    assert_eq!(
        settings.callback_backoff(),
        (Duration::from_millis(100), Duration::from_millis(400))
    );
    for bad in [
        json!(0),
        json!(-5),
        json!(1.5),
        json!("3s"),
        json!(""),
        json!(true),
        json!(86_400_001),
    ] {
        let (code, text) = rejected(json!({ "callback_backoff_delay_ms": bad }));
        assert_eq!(code, 1009);
        assert!(
            text.starts_with("Parameter 'callback_backoff_delay_ms' has invalid value"),
            "{text}"
        );
    }
}

#[test]
fn max_concurrent_requests_is_one_of_four_values() {
    assert_eq!(
        patched(json!({ "webhooks": { "max_concurrent_requests": "24" } }))
            .max_concurrent_callbacks(),
        24
    );
    for bad in [json!(5), json!(7), json!(0), json!(30), json!("six")] {
        let (_, text) = rejected(json!({ "webhooks": { "max_concurrent_requests": bad } }));
        assert!(
            text.starts_with("Parameter 'webhooks.max_concurrent_requests'"),
            "{text}"
        );
    }
}

#[test]
fn webhook_urls_are_absolute_http_or_https() {
    for good in [
        "https://hooks.example.com/wa?auth=s3cret&id=1",
        "http://127.0.0.1:8080/hook",
        "HTTPS://EXAMPLE.COM",
        "http://[::1]:9000/x",
        "https://user:pw@example.com/",
    ] {
        assert_eq!(
            patched(json!({ "webhooks": { "url": good } })).webhook_url(),
            Some(good)
        );
    }
    for bad in [
        "ftp://example.com",
        "example.com/hook",
        "https://",
        "https:///path",
        "https://example.com:99999/",
        "https://example.com:/",
        "https://exa mple.com",
        "http://[::1/x",
    ] {
        let (_, text) = rejected(json!({ "webhooks": { "url": bad } }));
        assert_eq!(
            text,
            format!("Parameter 'webhooks.url' has invalid value '{bad}'")
        );
    }
    assert_eq!(
        rejected(json!({ "webhooks": { "url": 5 } })).1,
        "Parameter 'webhooks.url' has invalid value '5'"
    );
    assert_eq!(
        rejected(json!({ "webhooks": "https://example.com" })).1,
        "Parameter 'webhooks' has invalid value 'https://example.com'"
    );
}

#[test]
fn auto_download_members_are_checked() {
    let settings = patched(json!({ "media": { "auto_download": ["voice", "voice", "image"] } }));
    assert_eq!(
        settings.media.auto_download,
        vec![MediaType::Voice, MediaType::Image]
    );
    assert!(patched(json!({ "media": { "auto_download": [] } }))
        .media
        .auto_download
        .is_empty());
    assert_eq!(
        rejected(json!({ "media": { "auto_download": ["image", "gif"] } })).1,
        "Parameter 'media.auto_download' has invalid value 'gif'"
    );
    assert_eq!(
        rejected(json!({ "media": { "auto_download": "image" } })).1,
        "Parameter 'media.auto_download' has invalid value 'image'"
    );
}

#[test]
fn other_fields_are_validated() {
    assert_eq!(
        rejected(json!({ "pass_through": true })).1,
        "Parameter 'pass_through' has invalid value 'true'"
    );
    assert!(!patched(json!({ "pass_through": false })).pass_through);
    assert_eq!(patched(json!({ "log_level": "DEBUG" })).log_level, "debug");
    assert!(rejected(json!({ "log_level": "loud" }))
        .1
        .contains("'log_level'"));
    assert_eq!(
        patched(json!({ "on_call_pager": "16315551234" })).to_json()["on_call_pager"],
        json!("16315551234")
    );
    assert!(rejected(json!({ "on_call_pager": "call me" }))
        .1
        .contains("'on_call_pager'"));
    assert_eq!(
        rejected(json!({ "heartbeat_interval": 40 })).1,
        "Parameter 'unhealthy_interval' has invalid value '30'"
    );
    let settings = patched(json!({ "heartbeat_interval": 40, "unhealthy_interval": "120" }));
    assert_eq!(
        (settings.heartbeat_interval, settings.unhealthy_interval),
        (40, 120)
    );
}

#[test]
fn one_bad_field_rejects_the_whole_patch() {
    let (_, text) = rejected(json!({
        "webhooks": { "url": "https://ok.example.com" },
        "verbose_logging": "yes",
    }));
    assert_eq!(text, "Parameter 'verbose_logging' has invalid value 'yes'");
}

#[test]
fn long_rejected_values_are_cut_short() {
    let long = "x".repeat(500);
    let (_, text) = rejected(json!({ "log_level": long }));
    // The one rule of every echoed value: its first 128 characters, then `...`.
    let shown = format!("'{}...'", "x".repeat(crate::error::MAX_ECHOED_CHARS));
    assert!(text.ends_with(&shown), "{text}");
}

#[test]
fn json_round_trips() {
    let mut settings = patched(json!({
        "webhooks": { "url": "https://h.example.com", "max_concurrent_requests": 18, "message": { "sent": false } },
        "media": { "auto_download": ["audio"] },
        "on_call_pager": "123-456",
        "garbagecollector_enable": { "media": true, "messages": false },
    }));
    settings.wa_id = "16315551019".to_string();
    let text = serde_json::to_string(&settings).unwrap();
    let back: ApplicationSettings = serde_json::from_str(&text).unwrap();
    assert_eq!(back, settings);
    let defaults: ApplicationSettings = serde_json::from_str("{}").unwrap();
    assert_eq!(defaults, ApplicationSettings::default());
    assert!(serde_json::from_str::<ApplicationSettings>(r#"{"sent_status":"no"}"#).is_err());
}

#[test]
fn stored_settings_load_leniently() {
    let stored = json!({
        "webhooks": { "url": "https://h.example.com" },
        "sent_status": "garbage",
        "wa_id": "1555",
        "some_future_key": 1,
    });
    let (settings, skipped) = ApplicationSettings::from_stored(&stored);
    assert_eq!(settings.webhook_url(), Some("https://h.example.com"));
    assert!(settings.sent_status);
    assert_eq!(settings.wa_id, "1555");
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0].to_string().contains("sent_status"));
}

#[test]
fn stored_settings_keep_fields_that_are_only_valid_together() {
    let saved = patched(json!({ "heartbeat_interval": 40, "unhealthy_interval": 120 }));
    let (loaded, skipped) = ApplicationSettings::from_stored(&saved.to_json());
    assert!(skipped.is_empty());
    assert_eq!(loaded, saved);
    let (loaded, skipped) = ApplicationSettings::from_stored(&json!("not an object"));
    assert_eq!(loaded, ApplicationSettings::default());
    assert_eq!(skipped.len(), 1);
}

#[test]
fn a_backoff_cap_below_the_first_delay_is_refused() {
    let (code, text) = rejected(json!({
        "callback_backoff_delay_ms": 5000,
        "max_callback_backoff_delay_ms": 10,
    }));
    assert_eq!(code, 1009);
    assert!(text.contains("must be at least"), "{text}");
    // Raising the cap and the first delay together is fine, as is equality.
    patched(json!({ "callback_backoff_delay_ms": 5000, "max_callback_backoff_delay_ms": 5000 }));
    // Either one alone is checked against the other's current value.
    let (code, _) = rejected(json!({ "max_callback_backoff_delay_ms": 2999 }));
    assert_eq!(code, 1009);
    let mut settings = patched(json!({ "max_callback_backoff_delay_ms": 3000 }));
    let error = settings
        .apply_patch(&json!({ "callback_backoff_delay_ms": 3001 }))
        .unwrap_err();
    assert_eq!(details(&error).0, 1009);
    assert_eq!(settings.callback_backoff(), (ms(3000), ms(3000)));
}

#[test]
fn a_stored_backoff_cap_below_the_first_delay_loads_as_a_working_pair() {
    // Saved before the rule existed: the first delay is kept, the cap falls back to its default.
    let stored = json!({
        "callback_backoff_delay_ms": 5000,
        "max_callback_backoff_delay_ms": 10,
        "sent_status": true,
    });
    let (loaded, skipped) = ApplicationSettings::from_stored(&stored);
    assert_eq!(skipped.len(), 1);
    assert_eq!(
        loaded.callback_backoff(),
        (ms(5000), ms(DEFAULT_MAX_CALLBACK_BACKOFF_DELAY_MS))
    );
    assert!(loaded.sent_status);
}

fn ms(millis: u64) -> std::time::Duration {
    std::time::Duration::from_millis(millis)
}
