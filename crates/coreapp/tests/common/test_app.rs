//! An in-process coreapp on a fresh database: the internal RPC exactly as `coreapp::start`
//! serves it ([`coreapp::rpc_app`], same app data and middleware), called through actix's test
//! service, without a listener, a network session or background tasks. The state is therefore
//! "not connected": every call that needs the network answers 1011, and every rule checked
//! before that can be tested here in milliseconds instead of in the end-to-end suite.

use actix_web::http::{Method, StatusCode};
use actix_web::{test, web};
use coreapp::api::account::PendingRegistration;
use coreapp::CoreState;
use serde_json::Value;
use tempfile::TempDir;
use wa_common::Settings;
use wa_store::{testing::TestDb, Backend, Store};

pub struct TestApp {
    pub state: web::Data<CoreState>,
    pending: web::Data<PendingRegistration>,
    _media: TempDir,
    // Dropped last: the database goes away after everything using it.
    _db: TestDb,
}

/// One answer: its status and JSON body (`Value::Null` when the body is empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    /// The first error's code, or 0.
    pub fn code(&self) -> u64 {
        self.body["errors"][0]["code"].as_u64().unwrap_or(0)
    }

    pub fn details(&self) -> &str {
        self.body["errors"][0]["details"].as_str().unwrap_or("")
    }

    /// Asserts the HTTP status and the On-Prem error code, and returns the answer.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: u64) -> Self {
        assert_eq!(
            (self.status.as_u16(), self.code()),
            (status, code),
            "{}",
            self.body
        );
        self
    }

    #[track_caller]
    pub fn expect_status(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        self
    }
}

impl TestApp {
    /// A coreapp on a new, empty database of `backend`, with default settings.
    pub async fn on(backend: Backend) -> TestApp {
        let db = TestDb::new(backend);
        let media = tempfile::tempdir().unwrap();
        let settings = Settings {
            media_dir: media.path().to_path_buf(),
            ..Settings::default()
        };
        wa_api::envelope::set_version(&settings.version);
        let store = Store::connect(&db.config()).await.unwrap();
        let state = coreapp::load_state(&settings, store).await.unwrap();
        TestApp {
            state: web::Data::new(state),
            pending: web::Data::new(PendingRegistration::default()),
            _media: media,
            _db: db,
        }
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Calls `method path` with `body` sent as is (JSON text or anything else).
    pub async fn call_raw(&self, method: Method, path: &str, body: impl Into<Vec<u8>>) -> Answer {
        // Building the App per call is cheap, and keeps this struct free of the service's
        // unnameable type; the state and the pending registration are shared across calls.
        let app =
            test::init_service(coreapp::rpc_app(self.state.clone(), self.pending.clone())).await;
        let request = test::TestRequest::default()
            .method(method)
            .uri(path)
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body.into())
            .to_request();
        let response = test::call_service(&app, request).await;
        let status = response.status();
        let bytes = test::read_body(response).await;
        Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let text = body.map(|body| body.to_string()).unwrap_or_default();
        self.call_raw(method, path, text).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }
}
