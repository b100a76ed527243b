//! A blocking HTTPS client for the API, as an integration would use it (`curl -k`).

use base64::Engine;
use reqwest::blocking::{Client as HttpClient, RequestBuilder};
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::time::Duration;

pub struct Client {
    http: HttpClient,
    pub base: String,
}

/// One answer: status, headers, JSON body (Null when the body is not JSON), peer certificate.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub peer_certificate: Option<Vec<u8>>,
}

impl Reply {
    /// The first error code, or 0.
    pub fn code(&self) -> u64 {
        self.body["errors"][0]["code"].as_u64().unwrap_or(0)
    }

    pub fn details(&self) -> &str {
        self.body["errors"][0]["details"].as_str().unwrap_or("")
    }

    /// Asserts status and first error code together, printing the body when they differ.
    pub fn expect_error(&self, status: u16, code: u64) -> &Self {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "unexpected answer: {:#?}",
            self.body
        );
        assert!(
            self.body["errors"][0]["title"].is_string(),
            "error without title: {}",
            self.body
        );
        assert!(
            self.body["meta"]["version"].is_string(),
            "error without meta: {}",
            self.body
        );
        self
    }

    pub fn expect_status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected answer: {:#?}", self.body);
        self
    }
}

/// An `Authorization: Basic` value.
pub fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

impl Client {
    pub fn new(port: u16) -> Client {
        let http = HttpClient::builder()
            .danger_accept_invalid_certs(true)
            .tls_info(true)
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Client {
            http,
            base: format!("https://localhost:{port}"),
        }
    }

    /// A client of a plain-HTTP server at `base` (the coreapp's internal port).
    pub fn plain(base: &str) -> Client {
        let http = HttpClient::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Client {
            http,
            base: base.to_string(),
        }
    }

    pub fn request(&self, method: &str, path: &str) -> RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        self.http.request(method, format!("{}{}", self.base, path))
    }

    pub fn send(&self, request: RequestBuilder) -> Reply {
        let response = request.send().unwrap();
        let peer_certificate = response
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|info| info.peer_certificate().map(<[u8]>::to_vec));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().unwrap_or_default();
        Reply {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            peer_certificate,
        }
    }

    /// A JSON call with `Authorization` set to `auth` (a full header value) when given.
    pub fn call(&self, method: &str, path: &str, auth: Option<&str>, body: Option<Value>) -> Reply {
        let mut request = self.request(method, path);
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request)
    }

    /// `POST /v1/users/login` with Basic credentials and an optional JSON body.
    pub fn login(&self, user: &str, password: &str, body: Option<Value>) -> Reply {
        self.call(
            "POST",
            "/v1/users/login",
            Some(&basic(user, password)),
            body,
        )
    }

    /// Logs in and returns `Bearer <token>`.
    pub fn bearer(&self, user: &str, password: &str) -> String {
        let reply = self.login(user, password, None);
        reply.expect_status(200);
        format!(
            "Bearer {}",
            reply.body["users"][0]["token"].as_str().unwrap()
        )
    }

    /// Points the installation's webhooks at `url` (as an admin), expecting 200.
    pub fn set_webhook_url(&self, admin: &str, url: &str) {
        let settings = serde_json::json!({ "webhooks": { "url": url } });
        self.call(
            "PATCH",
            "/v1/settings/application",
            Some(admin),
            Some(settings),
        )
        .expect_status(200);
    }

    /// First login of a new installation: sets `new_password` for admin, returns the bearer.
    pub fn first_login(&self, new_password: &str) -> String {
        let reply = self.login(
            "admin",
            "secret",
            Some(serde_json::json!({ "new_password": new_password })),
        );
        reply.expect_status(200);
        format!(
            "Bearer {}",
            reply.body["users"][0]["token"].as_str().unwrap()
        )
    }
}
