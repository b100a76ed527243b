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
