//! Certificates (spec onprem-rest §8.11): the webapp's HTTPS certificate uploaded through the API
//! is served at once, after a restart and by every webapp on the database; the webhook CA bundle
//! makes webhooks to a receiver signed by a private CA work without a restart, and nothing queued
//! before the upload is lost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{env, webapp, Messaging, FAST_PHONES};
use e2e::Client;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wa_store::testing::TestDb;
use wa_store::Backend;

/// A private CA and a `localhost` server certificate it signed (PEM).
struct PrivatePki {
    ca_pem: String,
    cert_pem: String,
    cert_der: Vec<u8>,
    key_pem: String,
}

fn private_pki(ca_name: &str) -> PrivatePki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, ca_name);
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    PrivatePki {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        cert_der: cert.der().to_vec(),
        key_pem: key.serialize_pem(),
    }
}

fn post_text(api: &Client, path: &str, auth: &str, text: &str) -> e2e::Reply {
    api.send(
        api.request("POST", path)
            .header("Authorization", auth)
            .header("Content-Type", "text/plain")
            .body(text.to_string()),
    )
}

fn get_text(api: &Client, path: &str, auth: &str) -> (u16, String, String) {
    let response = api
        .request("GET", path)
        .header("Authorization", auth)
        .send()
        .unwrap();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        response.status().as_u16(),
        content_type,
        response.text().unwrap(),
    )
}

/// The leaf certificate a fresh connection sees.
fn served_certificate(port: u16) -> Vec<u8> {
    Client::new(port)
        .call("GET", "/v1/health", None, None)
        .peer_certificate
        .unwrap()
}

fn external_certificate(db_env: std::collections::HashMap<String, String>) {
    let (_core, core_port) = e2e::stack::coreapp(&db_env);
    let mut web = webapp(&db_env, core_port);
    let admin = web.client.first_login(e2e::ADMIN_PASSWORD);
    let api = &web.client;
    let path = "/v1/certificates/external";
    let generated = served_certificate(web.port);
    let (status, content_type, generated_ca) =
        get_text(api, "/v1/certificates/external/ca", &admin);
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(generated_ca.contains("BEGIN CERTIFICATE"));

    let pki = private_pki("Operator CA");
    let other = private_pki("Other CA");
    post_text(api, path, &admin, "").expect_error(400, 1009);
    let r = post_text(
        api,
        path,
        &admin,
        &format!("{}{}", pki.key_pem, pki.cert_pem),
    );
    r.expect_error(400, 1009);
    assert_eq!(
        r.details(),
        "Certificate must contain private key, cert and at least one CA certificate sections"
    );
    post_text(
        api,
        path,
        &admin,
        &format!("{}{}{}", pki.cert_pem, pki.key_pem, pki.ca_pem),
    )
    .expect_error(400, 1009);
    // The key of another certificate.
    post_text(
        api,
        path,
        &admin,
        &format!("{}{}{}", other.key_pem, pki.cert_pem, pki.ca_pem),
    )
    .expect_error(400, 1009);
    assert_eq!(
        served_certificate(web.port),
        generated,
        "a refused upload changed the certificate"
    );

    api.call(
        "POST",
        "/v1/users",
        Some(&admin),
        Some(json!({"username": "viewer", "password": "V1ewer!Pass"})),
    )
    .expect_status(201);
    let user = api.bearer("viewer", "V1ewer!Pass");
    let upload = format!("{}{}{}", pki.key_pem, pki.cert_pem, pki.ca_pem);
    post_text(api, path, &user, &upload).expect_error(403, 1005);
    post_text(api, path, &admin, &upload).expect_status(201);

    // Served at once, on new connections, without a restart.
    assert_eq!(served_certificate(web.port), pki.cert_der);
    let (status, _, ca) = get_text(api, "/v1/certificates/external/ca", &user);
    assert_eq!(status, 200);
    assert_eq!(ca.trim(), pki.ca_pem.trim());

    // Kept across a restart, and served by another webapp on the same database.
    web.service.kill();
    let web = webapp(&db_env, core_port);
    assert_eq!(served_certificate(web.port), pki.cert_der);
    let second = webapp(&db_env, core_port);
    assert_eq!(served_certificate(second.port), pki.cert_der);
}

#[test]
fn external_certificate_on_sqlite() {
    let db = TestDb::new(Backend::Sqlite);
    external_certificate(env(&[("ONPREM__DATABASE__URL", &db.url)]));
}

#[test]
fn external_certificate_on_mysql() {
    let db = TestDb::new(Backend::Mysql);
    external_certificate(env(&[("ONPREM__DATABASE__URL", &db.url)]));
}

#[test]
fn external_certificate_on_postgres() {
    let db = TestDb::new(Backend::Postgres);
    external_certificate(env(&[("ONPREM__DATABASE__URL", &db.url)]));
}

/// An HTTPS webhook receiver with a certificate from a private CA; records the bodies it got.
struct HttpsReceiver {
    port: u16,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl HttpsReceiver {
    fn start(pki: &PrivatePki) -> HttpsReceiver {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let chain = vec![rustls::pki_types::CertificateDer::from(
            pki.cert_der.clone(),
        )];
        let key = rustls::pki_types::PrivateKeyDer::try_from(
            rcgen::KeyPair::from_pem(&pki.key_pem)
                .unwrap()
                .serialize_der(),
        )
        .unwrap();
        let config = Arc::new(
            rustls::ServerConfig::builder()
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies: Arc<Mutex<Vec<Value>>> = Arc::default();
        let recorded = bodies.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let (config, recorded) = (config.clone(), recorded.clone());
                std::thread::spawn(move || {
                    let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                    let tls = rustls::ServerConnection::new(config).unwrap();
                    let mut reader = BufReader::new(rustls::StreamOwned::new(tls, tcp));
                    while let Some(body) = read_request(&mut reader) {
                        recorded
                            .lock()
                            .unwrap()
                            .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        if reader.get_mut().write_all(ok).is_err() {
                            return;
                        }
                        let _ = reader.get_mut().flush();
                    }
                });
            }
        });
        HttpsReceiver { port, bodies }
    }

    fn url(&self) -> String {
        format!("https://localhost:{}/webhook", self.port)
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }
}

fn read_request(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut length = 0usize;
    let mut first = true;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if std::mem::take(&mut first) {
            continue;
        }
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

fn has_inbound(bodies: &[Value], id: &str) -> bool {
    bodies.iter().any(|b| b["messages"][0]["id"] == id)
}

fn webhook_ca(db_env: std::collections::HashMap<String, String>) {
    let pki = private_pki("Webhook receiver CA");
    let receiver = HttpsReceiver::start(&pki);
    let stack = Messaging::start(&db_env, FAST_PHONES, &receiver.url());
    stack.register();
    let (api, admin) = (stack.api(), stack.admin.as_str());
    let path = "/v1/certificates/webhooks/ca";
    let r = api.call("GET", path, Some(admin), None);
    r.expect_error(404, 1006);
    assert_eq!(r.details(), "No webhook CA certificates found");

    // Not trusted yet: the callback stays queued.
    let first = stack.wanet.consumer_says("4915112345678", "before the CA");
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        receiver.bodies().is_empty(),
        "delivered to an untrusted receiver"
    );

    post_text(api, path, admin, "").expect_error(400, 1009);
    post_text(
        api,
        path,
        admin,
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    )
    .expect_error(400, 1009);
    post_text(api, path, admin, "just text").expect_error(400, 1009);
    post_text(api, path, admin, &pki.ca_pem).expect_status(200);
    let (status, content_type, pem) = get_text(api, path, admin);
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert_eq!(pem, pki.ca_pem);

    // The queued callback goes out, and new ones too; no restart.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !has_inbound(&receiver.bodies(), &first) {
        assert!(
            Instant::now() < deadline,
            "queued webhook never delivered\n{}",
            stack.core.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let second = stack.wanet.consumer_says("4915112345678", "after the CA");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !has_inbound(&receiver.bodies(), &second) {
        assert!(Instant::now() < deadline, "new webhook never delivered");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The console's test webhook trusts the same CA as real deliveries.
    let test = "/v1/settings/application/webhooks/test";
    let r = api.call("POST", test, Some(admin), None);
    r.expect_status(200);
    assert_eq!(r.body["webhook_test"]["status"], 200, "{}", r.body);

    api.call(
        "POST",
        "/v1/users",
        Some(admin),
        Some(json!({"username": "viewer", "password": "V1ewer!Pass"})),
    )
    .expect_status(201);
    let user = api.bearer("viewer", "V1ewer!Pass");
    api.call("GET", path, Some(&user), None)
        .expect_error(403, 1005);
    api.call("DELETE", path, Some(&user), None)
        .expect_error(403, 1005);

    api.call("DELETE", path, Some(admin), None)
        .expect_status(200);
    api.call("GET", path, Some(admin), None)
        .expect_error(404, 1006);
    // Untrusted again at once.
    let third = stack
        .wanet
        .consumer_says("4915112345678", "after the delete");
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !has_inbound(&receiver.bodies(), &third),
        "delivered after the CA was removed"
    );
    let r = api.call("POST", test, Some(admin), None);
    assert!(r.body["webhook_test"]["status"].is_null(), "{}", r.body);
    let error = r.body["webhook_test"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("certificate"), "{error}");
}

#[test]
fn webhook_ca_on_sqlite() {
    let db = TestDb::new(Backend::Sqlite);
    webhook_ca(env(&[("ONPREM__DATABASE__URL", &db.url)]));
}

#[test]
fn webhook_ca_on_postgres() {
    let db = TestDb::new(Backend::Postgres);
    webhook_ca(env(&[("ONPREM__DATABASE__URL", &db.url)]));
}
