//! Users, tokens, certificates and secrets, on every backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{connect_to, new_user};
use wa_store::{testing::TestDb, Backend, StoreError, StoredCert, StoredToken, User};

on_every_backend!(
    user_create_find_update_delete,
    duplicate_username_is_a_conflict,
    ensure_user_inserts_only_once,
    delete_user_removes_its_tokens_only,
    token_insert_find_delete,
    delete_expired_tokens_keeps_live_ones,
    live_tokens_follow_the_users_stamp,
    cert_insert_if_absent_first_writer_wins,
    cert_concurrent_writers_agree_on_one,
    secret_first_writer_wins_across_stores,
    text_round_trips_four_byte_utf8,
);

async fn user_create_find_update_delete(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;

    let created = store.create_user(new_user("alice")).await.unwrap();
    assert_eq!(created.username, "alice");
    assert!(created.created_at > 1_600_000_000);
    assert_eq!(
        store.find_user("alice").await.unwrap(),
        Some(created.clone())
    );
    assert_eq!(store.find_user("bob").await.unwrap(), None);
    // Usernames compare byte for byte on every backend.
    assert_eq!(store.find_user("ALICE").await.unwrap(), None);

    store
        .insert_token(token("before-change", "alice", 100, i64::MAX))
        .await
        .unwrap();
    let changed = store
        .update_password("alice", "$2b$12$new", true)
        .await
        .unwrap()
        .unwrap();
    // A password change revokes the tokens issued under the old password.
    assert_eq!(store.find_token("before-change").await.unwrap(), None);
    let updated = store.find_user("alice").await.unwrap().unwrap();
    assert_eq!(updated, changed);
    assert_eq!(updated.password_hash, "$2b$12$new");
    assert!(updated.must_change_password);
    assert_eq!(updated.created_at, created.created_at);
    assert_ne!(updated.token_stamp, created.token_stamp);
    // Writing the same values again still reports the user as found, under yet another stamp.
    let again = store
        .update_password("alice", "$2b$12$new", true)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(again.token_stamp, updated.token_stamp);
    assert_eq!(
        store
            .update_password("bob", "$2b$12$x", false)
            .await
            .unwrap(),
        None
    );

    assert!(store.delete_user("alice").await.unwrap());
    assert_eq!(store.find_user("alice").await.unwrap(), None);
    assert!(!store.delete_user("alice").await.unwrap());
}

async fn duplicate_username_is_a_conflict(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    store.create_user(new_user("alice")).await.unwrap();
    let error = store.create_user(new_user("alice")).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict), "{error:?}");
    // Different case is a different user.
    store.create_user(new_user("Alice")).await.unwrap();
}

async fn ensure_user_inserts_only_once(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let mut admin = new_user("admin");
    admin.role = "ROLE_ADMIN".to_string();
    admin.must_change_password = true;
    assert!(store.ensure_user(admin.clone()).await.unwrap());
    assert!(!store.ensure_user(new_user("admin")).await.unwrap());
    let stored = store.find_user("admin").await.unwrap().unwrap();
    assert_eq!(stored.role, "ROLE_ADMIN");

    // Two webapps starting together: exactly one inserts.
    let other = connect_to(&db).await;
    let (a, b) = tokio::join!(
        store.ensure_user(new_user("ops")),
        other.ensure_user(new_user("ops"))
    );
    assert!(
        a.unwrap() ^ b.unwrap(),
        "exactly one ensure_user must insert"
    );
}

async fn delete_user_removes_its_tokens_only(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    store.create_user(new_user("alice")).await.unwrap();
    store.create_user(new_user("bob")).await.unwrap();
    for (id, username) in [("a1", "alice"), ("a2", "alice"), ("b1", "bob")] {
        store
            .insert_token(token(id, username, 100, 200))
            .await
            .unwrap();
    }

    assert!(store.delete_user("alice").await.unwrap());
    assert_eq!(store.find_token("a1").await.unwrap(), None);
    assert_eq!(store.find_token("a2").await.unwrap(), None);
    assert_eq!(
        store.find_token("b1").await.unwrap(),
        Some(token("b1", "bob", 100, 200))
    );
}

async fn token_insert_find_delete(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let id = "42120142cba71fd0956ebac513e8d44b";
    store
        .insert_token(token(id, "alice", 1_626_598_248, 1_627_203_048))
        .await
        .unwrap();
    assert_eq!(
        store.find_token(id).await.unwrap(),
        Some(token(id, "alice", 1_626_598_248, 1_627_203_048))
    );
    let error = store
        .insert_token(token(id, "bob", 1, 2))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Conflict), "{error:?}");
    assert_eq!(store.find_token("unknown").await.unwrap(), None);

    assert!(store.delete_token(id).await.unwrap());
    assert!(!store.delete_token(id).await.unwrap());
    assert_eq!(store.find_token(id).await.unwrap(), None);
}

async fn delete_expired_tokens_keeps_live_ones(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    for (id, expires_at) in [("t100", 100), ("t200", 200), ("t300", 300)] {
        store
            .insert_token(token(id, "alice", 0, expires_at))
            .await
            .unwrap();
    }
    assert_eq!(store.delete_expired_tokens(200).await.unwrap(), 2);
    assert_eq!(store.delete_expired_tokens(200).await.unwrap(), 0);
    assert_eq!(store.find_token("t200").await.unwrap(), None);
    assert!(store.find_token("t300").await.unwrap().is_some());
}

async fn cert_insert_if_absent_first_writer_wins(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    assert_eq!(store.find_cert("localhost", "server").await.unwrap(), None);

    let first = store
        .insert_cert_if_absent("localhost", "server", cert("first"))
        .await
        .unwrap();
    assert_eq!(first, cert("first"));
    let second = store
        .insert_cert_if_absent("localhost", "server", cert("second"))
        .await
        .unwrap();
    assert_eq!(second, cert("first"));
    assert_eq!(
        store.find_cert("localhost", "server").await.unwrap(),
        Some(cert("first"))
    );

    // The key is (hostname, cert_type): other kinds and hosts are independent.
    let ca = store
        .insert_cert_if_absent("localhost", "ca", cert("ca"))
        .await
        .unwrap();
    assert_eq!(ca, cert("ca"));
    assert_eq!(
        store.find_cert("example.com", "server").await.unwrap(),
        None
    );
}

async fn cert_concurrent_writers_agree_on_one(backend: Backend) {
    let db = TestDb::new(backend);
    let (a, b) = (connect_to(&db).await, connect_to(&db).await);
    for round in 0..5 {
        let host = format!("host{round}.example");
        let (from_a, from_b) = tokio::join!(
            a.insert_cert_if_absent(&host, "server", cert("a")),
            b.insert_cert_if_absent(&host, "server", cert("b")),
        );
        let (from_a, from_b) = (from_a.unwrap(), from_b.unwrap());
        assert_eq!(from_a, from_b);
        assert!(from_a == cert("a") || from_a == cert("b"));
        assert_eq!(a.find_cert(&host, "server").await.unwrap(), Some(from_a));
    }
}

async fn secret_first_writer_wins_across_stores(backend: Backend) {
    let db = TestDb::new(backend);
    let (a, b) = (connect_to(&db).await, connect_to(&db).await);
    assert_eq!(
        a.get_or_insert_secret("jwt_key", "from-a".into())
            .await
            .unwrap(),
        "from-a"
    );
    assert_eq!(
        b.get_or_insert_secret("jwt_key", "from-b".into())
            .await
            .unwrap(),
        "from-a"
    );

    let (from_a, from_b) = tokio::join!(
        a.get_or_insert_secret("race", "from-a".into()),
        b.get_or_insert_secret("race", "from-b".into()),
    );
    let (from_a, from_b) = (from_a.unwrap(), from_b.unwrap());
    assert_eq!(from_a, from_b);
    assert!(from_a == "from-a" || from_a == "from-b");
}

async fn text_round_trips_four_byte_utf8(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let value = "🔐 clé 漢字 👍🏽 ∑".to_string();
    assert_eq!(
        store
            .get_or_insert_secret("emoji", value.clone())
            .await
            .unwrap(),
        value
    );
    let fresh = connect_to(&db).await;
    assert_eq!(
        fresh
            .get_or_insert_secret("emoji", "other".into())
            .await
            .unwrap(),
        value
    );

    let username = "😀ünïcødé";
    store.create_user(new_user(username)).await.unwrap();
    assert_eq!(
        fresh.find_user(username).await.unwrap().unwrap().username,
        username
    );

    let pem = StoredCert {
        cert_pem: "-----BEGIN CERTIFICATE-----\n🙂\n".to_string(),
        key_pem: "🔑".to_string(),
        ca_pem: String::new(),
    };
    store
        .insert_cert_if_absent("ünï.example", "server", pem.clone())
        .await
        .unwrap();
    assert_eq!(
        fresh.find_cert("ünï.example", "server").await.unwrap(),
        Some(pem)
    );
}

fn token(id: &str, username: &str, issued_at: i64, expires_at: i64) -> StoredToken {
    StoredToken {
        id: id.to_string(),
        username: username.to_string(),
        issued_at,
        expires_at,
        user_stamp: String::new(),
    }
}

/// A token of `user` under its current stamp.
fn token_of(id: &str, user: &User) -> StoredToken {
    StoredToken {
        user_stamp: user.token_stamp.clone(),
        ..token(id, &user.username, 100, i64::MAX)
    }
}

async fn live_tokens_follow_the_users_stamp(backend: Backend) {
    let db = TestDb::new(backend);
    let store = connect_to(&db).await;
    let mut admin = new_user("root");
    admin.role = "ROLE_ADMIN".to_string();
    let alice = store.create_user(new_user("alice")).await.unwrap();
    let root = store.create_user(admin).await.unwrap();
    assert_ne!(alice.token_stamp, root.token_stamp);
    store.insert_token(token_of("a1", &alice)).await.unwrap();
    store.insert_token(token_of("r1", &root)).await.unwrap();
    // Another user's stamp, or a user that does not exist, is not enough.
    let mut forged = token_of("x1", &root);
    forged.username = "alice".to_string();
    store.insert_token(forged).await.unwrap();
    store
        .insert_token(token("x2", "ghost", 1, i64::MAX))
        .await
        .unwrap();

    let live = store.find_live_token("a1").await.unwrap().unwrap();
    assert_eq!(live.token, token_of("a1", &alice));
    assert_eq!(live.role, alice.role);
    let live = store.find_live_token("r1").await.unwrap().unwrap();
    assert_eq!(live.role, "ROLE_ADMIN");
    for dead in ["x1", "x2", "unknown"] {
        assert_eq!(store.find_live_token(dead).await.unwrap(), None, "{dead}");
    }

    // A token stored after the password change under the stamp read before it is dead.
    let changed = store
        .update_password("alice", "$2b$12$new", false)
        .await
        .unwrap()
        .unwrap();
    store.insert_token(token_of("a2", &alice)).await.unwrap();
    assert!(store.find_token("a2").await.unwrap().is_some());
    assert_eq!(store.find_live_token("a2").await.unwrap(), None);
    store.insert_token(token_of("a3", &changed)).await.unwrap();
    assert!(store.find_live_token("a3").await.unwrap().is_some());

    // A deleted user's token does not come back with a new user of the same name.
    store.delete_user("alice").await.unwrap();
    store.insert_token(token_of("a4", &changed)).await.unwrap();
    let reborn = store.create_user(new_user("alice")).await.unwrap();
    assert_eq!(store.find_live_token("a4").await.unwrap(), None);
    store.insert_token(token_of("a5", &reborn)).await.unwrap();
    assert!(store.find_live_token("a5").await.unwrap().is_some());
    assert!(store.find_live_token("r1").await.unwrap().is_some());
}

fn cert(tag: &str) -> StoredCert {
    StoredCert {
        cert_pem: format!("-----BEGIN CERTIFICATE-----\n{tag}\n-----END CERTIFICATE-----\n"),
        key_pem: format!("-----BEGIN PRIVATE KEY-----\n{tag}\n-----END PRIVATE KEY-----\n"),
        ca_pem: format!("ca of {tag}"),
    }
}
