//! Clients of the two HTTP surfaces the bench drives: the public API over HTTPS (as an integration
//! would call it) and wanet's control API (playing the consumers).

use anyhow::{bail, Context, Result};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub const ADMIN_PASSWORD: &str = "Bench!Pass42";
pub const BUSINESS_CC: &str = "1";
pub const BUSINESS_NUMBER: &str = "6315550000";
pub const BUSINESS_WA_ID: &str = "16315550000";

/// The public API of one webapp, logged in as admin.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    bearer: String,
}

/// What one `POST /v1/messages` gave.
pub enum SendOutcome {
    Accepted(String),
    /// HTTP status and the first error code (0 when the body had none).
    Refused(u16, u64),
}

#[derive(Deserialize)]
struct SentReply {
    messages: Vec<SentId>,
}

#[derive(Deserialize)]
struct SentId {
    id: String,
}

impl Api {
    /// One HTTPS client shared by every load task: its pool keeps a TLS connection per concurrent
    /// caller, as a real integration's HTTP client would.
    pub fn http_client() -> Result<reqwest::Client> {
        reqwest::Client::builder()
            // The generated certificate is signed by the installation's own CA (`curl -k`).
            .danger_accept_invalid_certs(true)
            .pool_max_idle_per_host(1024)
            // The webapp closes a connection idle for 5 s (actix-web's keep-alive). A client
            // that keeps it longer races that close: a request written as the server closes is
            // lost ("connection closed before message completed"), which is the client's timing,
            // not the product's. Real integrations set their pool below the server's keep-alive.
            .pool_idle_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(60))
            .build()
            .context("build the HTTPS client")
    }

    /// First login of a new installation: sets the admin password and keeps the token.
    pub async fn first_login(http: reqwest::Client, port: u16) -> Result<Api> {
        // An IP, not `localhost`: no resolver call per new connection, no ::1 attempt first.
        let base = format!("https://127.0.0.1:{port}");
        let response = http
            .post(format!("{base}/v1/users/login"))
            .basic_auth("admin", Some("secret"))
            .json(&json!({ "new_password": ADMIN_PASSWORD }))
            .send()
            .await
            .context("first login")?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or_default();
        let Some(token) = body["users"][0]["token"].as_str() else {
            bail!("first login answered {status}: {body}");
        };
        Ok(Api {
            bearer: format!("Bearer {token}"),
            http,
            base,
        })
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .header("Authorization", &self.bearer);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or_default()))
    }

    /// `call` that must answer `expected`.
    pub async fn expect(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Result<Value> {
        let (status, reply) = self.call(method.clone(), path, body).await?;
        if status != expected {
            bail!("{method} {path} answered {status} (expected {expected}): {reply}");
        }
        Ok(reply)
    }

    /// One text message; transport failures are errors, API refusals are outcomes.
    pub async fn send_text(&self, to: &str, text: &str) -> Result<SendOutcome> {
        let body = json!({ "to": to, "type": "text", "text": { "body": text } });
        let response = self
            .http
            .post(format!("{}/v1/messages", self.base))
            .header("Authorization", &self.bearer)
            .json(&body)
            .send()
            .await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        if status == 201 {
            let reply: SentReply =
                serde_json::from_slice(&bytes).context("201 without a message id")?;
            let id = reply
                .messages
                .into_iter()
                .next()
                .map(|m| m.id)
                .context("201 without a message id")?;
            return Ok(SendOutcome::Accepted(id));
        }
        let body: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        Ok(SendOutcome::Refused(
            status,
            body["errors"][0]["code"].as_u64().unwrap_or(0),
        ))
    }

    /// `gateway_status` from `/v1/health`; `None` when the health call fails (coreapp down).
    pub async fn gateway_status(&self) -> Option<String> {
        let (status, body) = self.call(Method::GET, "/v1/health", None).await.ok()?;
        if status != 200 {
            return None;
        }
        body["health"]["gateway_status"]
            .as_str()
            .map(str::to_string)
    }

    /// Polls health every 20 ms until `wanted`; returns when it was seen.
    pub async fn wait_for_gateway(&self, wanted: &str, limit: Duration) -> Result<Instant> {
        let deadline = Instant::now() + limit;
        loop {
            let status = self.gateway_status().await;
            if status.as_deref() == Some(wanted) {
                return Ok(Instant::now());
            }
            if Instant::now() > deadline {
                bail!("gateway status stayed {status:?}, wanted {wanted:?} within {limit:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Webhooks to `url`, every status on, the most concurrent POSTs On-Prem allows (24), and
    /// short retry delays so a hiccup does not stall a phase.
    pub async fn point_webhooks_at(&self, url: &str) -> Result<()> {
        let settings = json!({
            "webhooks": {
                "url": url,
                "max_concurrent_requests": 24,
                "message": { "sent": true, "delivered": true, "read": true },
            },
            "callback_backoff_delay_ms": 200,
            "max_callback_backoff_delay_ms": 1000,
        });
        self.expect(
            Method::PATCH,
            "/v1/settings/application",
            Some(settings),
            200,
        )
        .await?;
        Ok(())
    }

    /// `POST /v1/account`, the code from wanet, `POST /v1/account/verify`.
    pub async fn register(&self, wanet: &Wanet) -> Result<()> {
        let cert = wanet.cert("Bench Corp").await?;
        let body = json!({ "cc": BUSINESS_CC, "phone_number": BUSINESS_NUMBER, "method": "sms", "cert": cert });
        self.expect(Method::POST, "/v1/account", Some(body), 202)
            .await?;
        let code = wanet.code(BUSINESS_WA_ID).await?;
        if code.len() != 6 {
            bail!("wanet handed out an unexpected code {code:?}");
        }
        let dashed = format!("{}-{}", &code[..3], &code[3..]);
        self.expect(
            Method::POST,
            "/v1/account/verify",
            Some(json!({ "code": dashed })),
            201,
        )
        .await?;
        Ok(())
    }
}

/// wanet's control API.
#[derive(Clone)]
pub struct Wanet {
    http: reqwest::Client,
    base: String,
}

impl Wanet {
    pub fn new(control_port: u16) -> Result<Wanet> {
        Ok(Wanet {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .context("build the control API client")?,
            base: format!("http://127.0.0.1:{control_port}"),
        })
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Result<Value> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("wanet {method} {path}"))?;
        let status = response.status().as_u16();
        let reply: Value = response.json().await.unwrap_or_default();
        if status != expected {
            bail!("wanet {method} {path} answered {status} (expected {expected}): {reply}");
        }
        Ok(reply)
    }

    pub async fn cert(&self, vname: &str) -> Result<String> {
        let reply = self
            .call(
                Method::POST,
                "/control/certs",
                Some(json!({ "vname": vname })),
                201,
            )
            .await?;
        reply["cert"]
            .as_str()
            .map(str::to_string)
            .context("wanet minted no cert")
    }

    pub async fn code(&self, wa_id: &str) -> Result<String> {
        let reply = self
            .call(Method::GET, &format!("/control/codes/{wa_id}"), None, 200)
            .await?;
        reply["code"]
            .as_str()
            .map(str::to_string)
            .context("wanet has no code")
    }

    /// The consumer `wa_id` writes one text (which opens its customer-service window).
    pub async fn consumer_says(&self, wa_id: &str, text: &str) -> Result<()> {
        let body = json!({ "type": "text", "text": { "body": text } });
        self.call(
            Method::POST,
            &format!("/control/consumers/{wa_id}/messages"),
            Some(body),
            201,
        )
        .await?;
        Ok(())
    }

    /// `count` texts from `wa_id` at once.
    pub async fn burst(&self, wa_id: &str, count: usize, prefix: &str) -> Result<()> {
        let body = json!({ "count": count, "body_prefix": prefix });
        self.call(
            Method::POST,
            &format!("/control/consumers/{wa_id}/burst"),
            Some(body),
            201,
        )
        .await?;
        Ok(())
    }

    /// The business as the network sees it: `connected`, `queued_pushes`, ...
    pub async fn business(&self, wa_id: &str) -> Result<Value> {
        self.call(
            Method::GET,
            &format!("/control/businesses/{wa_id}"),
            None,
            200,
        )
        .await
    }
}
