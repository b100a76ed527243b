//! An in-process webapp on a fresh database: the `App` exactly as `webapp::start` serves it
//! ([`webapp::server::prepare`] and [`AppData::app`]: same app data, middleware and route
//! table), called through actix's test service, without TLS, a listener or a coreapp. The
//! coreapp address points at a port nobody listens on, so every relayed call that passes the
//! webapp's own checks answers 1014, as it does while the coreapp is down.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use actix_web::http::header::HeaderMap;
use actix_web::test;
use base64::Engine;
use serde_json::Value;
use std::sync::Arc;
use wa_common::Settings;
use wa_store::{testing::TestDb, Backend, Store};
use webapp::server::AppData;
use webapp::state::AppState;

/// The admin password the tests set at the first login.
pub const ADMIN_PASSWORD: &str = "Str0ng!Pass";

/// Instantiates each listed `async fn name(backend: Backend)` once per backend, as tests named
/// `name::mysql`, `name::postgres` and `name::sqlite`. An unreachable server fails its tests.
#[macro_export]
macro_rules! on_every_backend {
    ($($test:ident),+ $(,)?) => {
        $(
            mod $test {
                use wa_store::Backend;

                #[actix_web::test]
                async fn mysql() {
                    super::$test(Backend::Mysql).await
                }

                #[actix_web::test]
                async fn postgres() {
                    super::$test(Backend::Postgres).await
                }

                #[actix_web::test]
                async fn sqlite() {
                    super::$test(Backend::Sqlite).await
                }
            }
        )+
    };
}

pub struct TestApp {
    data: AppData,
    settings: Settings,
    // Dropped last: the database goes away after everything using it (shared by the webapps
    // made with `beside`).
    db: Arc<TestDb>,
}

/// One answer: status, headers and JSON body (`Value::Null` when empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The first error's code, or 0.
    pub fn code(&self) -> u64 {
        self.body["errors"][0]["code"].as_u64().unwrap_or(0)
    }

    pub fn details(&self) -> &str {
        self.body["errors"][0]["details"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn expect_error(&self, status: u16, code: u64) {
        assert_eq!((self.status, self.code()), (status, code), "{}", self.body);
    }

    #[track_caller]
    pub fn expect_status(&self, status: u16) {
        assert_eq!(self.status, status, "{}", self.body);
    }
}

pub fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

impl TestApp {
    /// A webapp on a new, empty database of `backend`; fast password hashing and no request
    /// rate limits, so the tests measure rules, not time.
    pub async fn on(backend: Backend) -> TestApp {
        Self::with(backend, |_| {}).await
    }

    /// The same, with `adjust` applied to the settings first.
    pub async fn with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let db = TestDb::new(backend);
        let mut settings = Settings::default();
        let web = &mut settings.webapp;
        web.bcrypt_cost = 4;
        web.failed_logins_max = 1000;
        web.user_changes_max = 1000;
        web.messages_rate_per_sec = 0;
        web.endpoint_rate_per_sec = 0;
        web.coreapp_host = "127.0.0.1".to_string();
        web.coreapp_port = unused_port();
        adjust(&mut settings);
        Self::serving(Arc::new(db), settings).await
    }

    /// A second webapp with the same settings on the same database, as behind a load balancer:
    /// its own state, limiters and store connections; the users, tokens and token key shared.
    pub async fn beside(&self) -> TestApp {
        Self::serving(self.db.clone(), self.settings.clone()).await
    }

    async fn serving(db: Arc<TestDb>, settings: Settings) -> TestApp {
        let store = Store::connect(&db.config()).await.unwrap();
        let (data, _tls) = webapp::server::prepare(&settings, store).await.unwrap();
        TestApp { data, settings, db }
    }

    /// The webapp's shared state, for what only the process itself sees.
    pub fn state(&self) -> &AppState {
        &self.data.state
    }

    /// Sends a request built by the test.
    pub async fn send(&self, request: test::TestRequest) -> Reply {
        let (reply, bytes) = self.send_raw(request).await;
        Reply {
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            ..reply
        }
    }

    /// The same, with the body's bytes as they came (the `Reply`'s body is left null).
    pub async fn send_raw(&self, request: test::TestRequest) -> (Reply, Vec<u8>) {
        // Building the App per call is cheap and keeps this struct free of the service's
        // unnameable type; the shared data (state, limiters, metrics) lives in `data`.
        let app = test::init_service(self.data.app()).await;
        let request = request
            .peer_addr("127.0.0.1:40000".parse().unwrap())
            .to_request();
        let response = test::call_service(&app, request).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = test::read_body(response).await.to_vec();
        let reply = Reply {
            status,
            headers,
            body: Value::Null,
        };
        (reply, bytes)
    }

    /// A request with `method` and `path`, ready for headers and a body.
    pub fn request(&self, method: &str, path: &str) -> test::TestRequest {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        test::TestRequest::default().method(method).uri(path)
    }

    /// `method path` with an optional `Authorization` header and JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.request(method, path);
        if let Some(auth) = auth {
            request = request.insert_header(("Authorization", auth));
        }
        if let Some(body) = body {
            request = request
                .insert_header(("Content-Type", "application/json"))
                .set_payload(body.to_string());
        }
        self.send(request).await
    }

    pub async fn login(&self, user: &str, password: &str, body: Option<Value>) -> Reply {
        let auth = basic(user, password);
        self.call("POST", "/v1/users/login", Some(&auth), body)
            .await
    }

    /// Logs in and returns `Bearer <token>`.
    pub async fn bearer(&self, user: &str, password: &str) -> String {
        let reply = self.login(user, password, None).await;
        reply.expect_status(200);
        bearer_of(&reply)
    }

    /// The first login of a new installation: sets [`ADMIN_PASSWORD`], returns the bearer.
    pub async fn first_login(&self) -> String {
        let body = serde_json::json!({ "new_password": ADMIN_PASSWORD });
        let reply = self.login("admin", "secret", Some(body)).await;
        reply.expect_status(200);
        bearer_of(&reply)
    }
}

fn bearer_of(reply: &Reply) -> String {
    let token = reply.body["users"][0]["token"].as_str().unwrap();
    format!("Bearer {token}")
}

/// A loopback port nobody listens on (bound, then released).
fn unused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl TestApp {
    /// `POST path` with `auth` and `body` sent as JSON text, as is.
    pub async fn json_post(&self, auth: &str, path: &str, body: impl Into<String>) -> Reply {
        let request = self
            .request("POST", path)
            .insert_header(("Authorization", auth))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body.into());
        self.send(request).await
    }
}
