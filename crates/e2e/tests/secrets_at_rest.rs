//! A dump of the database alone reveals no secret: after a registration, a login, a two-step PIN
//! and a media provider password, no stored value verifies or signs a bearer token, and none
//! holds the PIN, a TLS private key, the provider password or the network secret in the clear.
//! MariaDB, PostgreSQL and SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use e2e::stack::messaging_on;
use serde_json::json;
use wa_store::{admin, Backend, DumpedValue, SEALED_PREFIX};

const PIN: &str = "592613";
const PROVIDER_PASSWORD: &str = "provider-Pw-7f3a9c51";

/// True when `key` is the HS256 key that signed `token`.
fn signs(key: &[u8], token: &str) -> bool {
    let Some((signed, signature)) = token.rsplit_once('.') else {
        return false;
    };
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    ring::hmac::verify(&key, signed.as_bytes(), &signature).is_ok()
}

/// Every way a stored string could serve as the key: as it is, trimmed, and decoded from hex or
/// base64.
fn candidate_keys(text: &str) -> Vec<Vec<u8>> {
    let mut keys = vec![text.as_bytes().to_vec(), text.trim().as_bytes().to_vec()];
    let body = text.strip_prefix(SEALED_PREFIX).unwrap_or(text);
    if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(body) {
        keys.push(bytes);
    }
    if text.len().is_multiple_of(2) {
        let hex: Option<Vec<u8>> = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
            .collect();
        keys.extend(hex);
    }
    keys
}

/// The PIN as a word of its own (plain, or a JSON string), not as digits inside a longer number.
fn holds_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|part| part == word)
}

fn nothing_revealed(backend: Backend) {
    let (db, _receiver, stack) = messaging_on(backend, &[]);
    stack.register();
    let token = stack
        .api()
        .bearer("admin", e2e::ADMIN_PASSWORD)
        .trim_start_matches("Bearer ")
        .to_string();
    stack
        .api()
        .call(
            "POST",
            "/v1/settings/account/two-step",
            Some(&stack.admin),
            Some(json!({ "pin": PIN })),
        )
        .expect_status(200);
    stack.set_media_providers(json!([{ "name": "cdn", "type": "www",
        "config": { "basic": { "username": "media-user", "password": PROVIDER_PASSWORD } } }]));

    let dump: Vec<DumpedValue> = admin::dump(&db.url).unwrap();
    // The dump is real: it holds what the calls stored that is no secret.
    let number = e2e::stack::BUSINESS_WA_ID;
    assert!(dump.iter().any(|v| v.text == number), "{dump:?}");
    assert!(dump.iter().any(|v| v.table == "tokens"), "{dump:?}");
    // The check below can tell a signing key.
    assert!(signs(b"k", &hs256_token(b"k")) && !signs(b"x", &hs256_token(b"k")));

    for value in &dump {
        let place = format!("{}.{} = {:?}", value.table, value.column, value.text);
        for key in candidate_keys(&value.text) {
            assert!(!signs(&key, &token), "{place} signs the token");
        }
        assert!(!holds_word(&value.text, PIN), "{place} holds the PIN");
        assert!(!value.text.contains(PROVIDER_PASSWORD), "{place}");
        assert!(!value.text.contains("PRIVATE KEY"), "{place}");
    }
    let sealed_columns = [
        ("secrets", "value"),
        ("certs", "key_pem"),
        ("registration", "secret"),
    ];
    for (table, column) in sealed_columns {
        let values: Vec<_> = dump
            .iter()
            .filter(|v| v.table == table && v.column == column)
            .collect();
        assert!(!values.is_empty(), "nothing stored in {table}.{column}");
        for value in values {
            assert!(value.text.starts_with(SEALED_PREFIX), "{value:?}");
        }
    }
    // The API still works with what it sealed: the token is accepted.
    stack
        .api()
        .call(
            "GET",
            "/v1/users/admin",
            Some(&format!("Bearer {token}")),
            None,
        )
        .expect_status(200);
}

/// A token signed with `key`, to show that [`signs`] recognises one.
fn hs256_token(key: &[u8]) -> String {
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#)
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let tag = ring::hmac::sign(&key, signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

#[test]
fn a_dump_reveals_no_secret_on_sqlite() {
    nothing_revealed(Backend::Sqlite);
}

#[test]
fn a_dump_reveals_no_secret_on_mysql() {
    nothing_revealed(Backend::Mysql);
}

#[test]
fn a_dump_reveals_no_secret_on_postgres() {
    nothing_revealed(Backend::Postgres);
}
