//! Every table, matching the `sql/*/` migrations, so each query can be diesel's typed DSL where
//! the backend allows. Only portable SQL types.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        must_change_password -> Bool,
        created_at -> BigInt,
        token_stamp -> Text,
    }
}

diesel::table! {
    tokens (id) {
        id -> Text,
        username -> Text,
        issued_at -> BigInt,
        expires_at -> BigInt,
        user_stamp -> Text,
    }
}

diesel::table! {
    system_tokens (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        token_hash -> Text,
        created_at -> BigInt,
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

diesel::table! {
    messages (id) {
        id -> Text,
        direction -> Text,
        peer -> Text,
        msg_type -> Text,
        payload -> Text,
        status -> Text,
        created_ms -> BigInt,
        updated_ms -> BigInt,
        expires_ms -> Nullable<BigInt>,
        shard_key -> Nullable<BigInt>,
        errors -> Nullable<Text>,
    }
}

diesel::table! {
    callbacks (id) {
        id -> BigInt,
        event_key -> Text,
        kind -> Text,
        body -> Text,
        attempts -> Integer,
        next_attempt_ms -> BigInt,
        last_error -> Text,
        created_ms -> BigInt,
        target -> SmallInt,
    }
}

diesel::table! {
    blobs (name) {
        name -> Text,
        data -> Binary,
        updated_at -> BigInt,
    }
}

diesel::table! {
    contacts (wa_id) {
        wa_id -> Text,
        on_whatsapp -> Bool,
        checked_at -> BigInt,
    }
}

diesel::table! {
    contact_identities (wa_id) {
        wa_id -> Text,
        hash -> Text,
        created_ms -> BigInt,
        acknowledged -> Bool,
    }
}

diesel::table! {
    conversations (recipient) {
        recipient -> Text,
        id -> Text,
        origin -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    registration (id) {
        id -> Text,
        phone -> Text,
        vname -> Text,
        secret -> Text,
        registered_at -> BigInt,
        deregistered_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    config_values (name) {
        name -> Text,
        value -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    media (id) {
        id -> Text,
        mime_type -> Text,
        sha256 -> Text,
        size_bytes -> BigInt,
        created_at -> BigInt,
        last_used_at -> BigInt,
    }
}

diesel::table! {
    cluster_nodes (node_id) {
        node_id -> Text,
        role -> Text,
        address -> Text,
        heartbeat_ms -> BigInt,
        status -> Text,
    }
}

diesel::table! {
    cluster_lease (id) {
        id -> Integer,
        holder -> Text,
        epoch -> BigInt,
        expires_ms -> BigInt,
    }
}

diesel::table! {
    shard_assignments (shard_index) {
        shard_index -> Integer,
        shard_count -> Integer,
        holder_node -> Text,
        lease_epoch -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (idem_key) {
        idem_key -> Text,
        request_hash -> Text,
        message_id -> Text,
        response -> Text,
        created_ms -> BigInt,
    }
}

// The fencing statements read the lease inside statements on the shard table.
diesel::allow_tables_to_appear_in_same_query!(cluster_lease, shard_assignments);
// Bearer tokens are checked against their user in one query.
diesel::allow_tables_to_appear_in_same_query!(tokens, users);
