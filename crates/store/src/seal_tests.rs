use super::*;

fn sealer() -> (SecretsKey, Sealer) {
    let key = SecretsKey::generate();
    (key.clone(), Sealer::new(key, None))
}

#[test]
fn a_sealed_value_opens_with_its_key_and_place_only() {
    let (_, sealer) = sealer();
    let sealed = sealer.seal("config_values/pin", "123456").unwrap();
    assert!(sealed.starts_with(SEALED_PREFIX), "{sealed}");
    assert!(!sealed.contains("123456"), "{sealed}");
    assert_eq!(
        sealer.open("config_values/pin", &sealed).unwrap(),
        Opened::Current("123456".into())
    );
    // Copied into another row, it does not open.
    assert!(matches!(
        sealer.open("config_values/other", &sealed),
        Err(StoreError::Sealed(_))
    ));
}

#[test]
fn every_seal_draws_a_new_nonce() {
    let (_, sealer) = sealer();
    let first = sealer.seal("p", "same").unwrap();
    let second = sealer.seal("p", "same").unwrap();
    assert_ne!(first, second);
}

#[test]
fn another_key_is_refused_with_a_clear_message() {
    let (_, sealer) = sealer();
    let sealed = sealer.seal("secrets/jwt", "k").unwrap();
    let (_, other) = self::sealer();
    let Err(StoreError::Sealed(message)) = other.open("secrets/jwt", &sealed) else {
        panic!("opened with the wrong key");
    };
    assert!(message.contains("WA_SECRETS_KEY"), "{message}");
    assert!(message.contains("secrets/jwt"), "{message}");
}

#[test]
fn the_previous_key_opens_and_the_value_is_stale() {
    let (old_key, old) = sealer();
    let sealed = old.seal("p", "v").unwrap();
    let rotated = Sealer::new(SecretsKey::generate(), Some(old_key));
    assert_eq!(
        rotated.open("p", &sealed).unwrap(),
        Opened::Stale("v".into())
    );
    let resealed = rotated.reseal("p", &sealed).unwrap().unwrap();
    assert_eq!(
        rotated.open("p", &resealed).unwrap(),
        Opened::Current("v".into())
    );
    assert_eq!(rotated.reseal("p", &resealed).unwrap(), None);
    // The old key alone no longer opens the resealed value.
    assert!(old.open("p", &resealed).is_err());
}

#[test]
fn a_plain_legacy_value_reads_as_is_and_is_resealed() {
    let (_, sealer) = sealer();
    assert_eq!(
        sealer.open("p", "plain").unwrap(),
        Opened::Stale("plain".into())
    );
    let resealed = sealer.reseal("p", "plain").unwrap().unwrap();
    assert_eq!(sealer.open_plain("p", &resealed).unwrap(), "plain");
}

#[test]
fn a_damaged_sealed_value_is_refused() {
    let (_, sealer) = sealer();
    for stored in [format!("{SEALED_PREFIX}!!"), format!("{SEALED_PREFIX}AAAA")] {
        assert!(matches!(
            sealer.open("p", &stored),
            Err(StoreError::Sealed(_))
        ));
    }
}

#[test]
fn keys_are_base64_of_32_bytes_or_64_hex_digits() {
    let key = SecretsKey::generate();
    let text = key.to_base64();
    assert_eq!(SecretsKey::parse(&format!("{text}\n")).unwrap(), key);
    assert!(SecretsKey::parse("not base64!").is_err());
    let hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
    let from_hex = SecretsKey::parse(hex).unwrap();
    assert_eq!(from_hex.0[..3], [0x00, 0x11, 0x22]);
    assert_eq!(from_hex.0[31], 0xff);
    let short = STANDARD.encode([7u8; 16]);
    let error = SecretsKey::parse(&short).unwrap_err();
    assert!(error.contains("16 bytes"), "{error}");
    assert_eq!(format!("{key:?}"), "SecretsKey(<redacted>)");
}
