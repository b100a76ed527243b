//! Table definitions matching `sql/*/` migrations. Only portable SQL types.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        must_change_password -> Bool,
        created_at -> BigInt,
    }
}

diesel::table! {
    tokens (id) {
        id -> Text,
        username -> Text,
        issued_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    certs (hostname, cert_type) {
        hostname -> Text,
        cert_type -> Text,
        cert_pem -> Text,
        key_pem -> Text,
        ca_pem -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    stickerpacks (id) {
        id -> Text,
        publisher -> Text,
        name -> Text,
        ios_app_store_link -> Nullable<Text>,
        android_app_store_link -> Nullable<Text>,
        next_index -> Integer,
        created_at -> BigInt,
    }
}

diesel::table! {
    stickers (pack_id, sticker_index) {
        pack_id -> Text,
        sticker_index -> Integer,
        sticker_id -> Text,
        image_data_id -> Text,
        emojis -> Text,
    }
}
