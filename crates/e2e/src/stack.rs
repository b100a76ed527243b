//! Ready-made deployments: the one-process launcher, or separate coreapp and webapp processes.

use crate::{free_port, Client, Receiver, Reply, Service, API_KEY};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};
use wa_store::testing::TestDb;
use wa_store::Backend;

pub fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Gives a webapp's or coreapp's variables the test installation's secrets key (the one the
/// store's tests use too, `wa_store::testing::TEST_SECRETS_KEY`), unless they name a key.
pub fn with_secrets_key(vars: &mut HashMap<String, String>) {
    if !vars.contains_key("WA_SECRETS_KEY") && !vars.contains_key("WA_SECRETS_KEY_FILE") {
        vars.insert(
            "WA_SECRETS_KEY".into(),
            wa_store::testing::TEST_SECRETS_KEY.into(),
        );
    }
}

/// A process serving the API, with a client pointed at it.
pub struct Running {
    pub service: Service,
    pub port: u16,
    pub client: Client,
    /// Control API of the simulator bundled in `wa-dev` (0 for a plain webapp).
    pub wanet_control_port: u16,
}

/// A call to a simulator's control API on `port` (plain HTTP); the status and the JSON body
/// (null when there is none).
pub fn wanet_control(port: u16, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let http = reqwest::blocking::Client::new();
    let url = format!("http://127.0.0.1:{port}{path}");
    let mut request = http.request(method.parse().unwrap(), url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

/// The number [`Running::register_demo_number`] registers.
pub const DEMO_WA_ID: &str = "447400900123";

impl Running {
    /// A call to the control API of the simulator bundled in `wa-dev`.
    pub fn control(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        wanet_control(self.wanet_control_port, method, path, body)
    }

    /// Waits until `/v1/health` says `connected` (the deadline is a failure guard).
    pub fn wait_connected(&self, admin: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = self.client.call("GET", "/v1/health", Some(admin), None);
            if r.body["health"]["gateway_status"] == "connected" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}\n{}",
                r.body,
                self.service.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Registers [`DEMO_WA_ID`] through the API (`POST /v1/account` with a certificate minted
    /// by the bundled simulator, then the code it shows), and waits for `connected`.
    pub fn register_demo_number(&self, admin: &str) {
        let (_, cert) = self.control(
            "POST",
            "/control/certs",
            Some(serde_json::json!({"vname": "Demo Shop"})),
        );
        let body = serde_json::json!({"cc": "44", "phone_number": "7400900123", "method": "sms",
            "cert": cert["cert"]});
        let api = &self.client;
        api.call("POST", "/v1/account", Some(admin), Some(body))
            .expect_status(202);
        let (_, code) = self.control("GET", &format!("/control/codes/{DEMO_WA_ID}"), None);
        let verify = serde_json::json!({"code": code["code"]});
        api.call("POST", "/v1/account/verify", Some(admin), Some(verify))
            .expect_status(201);
        self.wait_connected(admin);
    }
}

/// README command 1's binary (`wa-dev`) on a data directory, with the monitoring key set.
pub fn launcher(data_dir: &Path, extra_env: &[(&str, &str)]) -> Running {
    let port = free_port();
    let mut vars = env(&[("WA_API_KEY", API_KEY)]);
    vars.extend(env(extra_env));
    let listen = format!("127.0.0.1:{port}");
    let wanet_control_port = free_port();
    let control = format!("127.0.0.1:{wanet_control_port}");
    let data = data_dir.to_str().unwrap();
    let args = [
        "--data-dir",
        data,
        "--listen",
        &listen,
        "--wanet-control-listen",
        &control,
    ];
    let mut service = Service::start("wa-dev", &args, &vars);
    service.wait_for_port(port);
    Running {
        service,
        port,
        client: Client::new(port),
        wanet_control_port,
    }
}

/// A coreapp binary with the given database environment; returns it and its RPC port.
pub fn coreapp(db_env: &HashMap<String, String>) -> (Service, u16) {
    let port = free_port();
    let mut vars = db_env.clone();
    vars.insert(
        "ONPREM__COREAPP__LISTEN".into(),
        format!("127.0.0.1:{port}"),
    );
    with_secrets_key(&mut vars);
    let mut service = Service::start("coreapp", &[], &vars);
    service.wait_for_port(port);
    (service, port)
}

/// A webapp binary with the given database environment, talking to the coreapp on `core_port`.
pub fn webapp(db_env: &HashMap<String, String>, core_port: u16) -> Running {
    let port = free_port();
    let mut vars = db_env.clone();
    vars.insert("WA_API_KEY".into(), API_KEY.into());
    vars.insert("WACORE_HOSTNAME".into(), "127.0.0.1".into());
    vars.insert("ONPREM__WEBAPP__COREAPP_PORT".into(), core_port.to_string());
    vars.insert("ONPREM__WEBAPP__LISTEN".into(), format!("127.0.0.1:{port}"));
    with_secrets_key(&mut vars);
    let mut service = Service::start("webapp", &[], &vars);
    service.wait_for_port(port);
    Running {
        service,
        port,
        client: Client::new(port),
        wanet_control_port: 0,
    }
}

/// The network simulator as a process, with a client for its control API.
pub struct Wanet {
    pub service: Service,
    pub port: u16,
    pub control_port: u16,
    http: reqwest::blocking::Client,
}

/// wanet on free ports; `args` adds flags (latencies, read probability, ...).
pub fn wanet(args: &[&str]) -> Wanet {
    let (port, control_port) = (free_port(), free_port());
    let listen = format!("127.0.0.1:{port}");
    let control = format!("127.0.0.1:{control_port}");
    let mut all = vec!["--listen", &listen, "--control-listen", &control];
    all.extend_from_slice(args);
    let mut service = Service::start("wanet", &all, &HashMap::new());
    service.wait_for_port(control_port);
    service.wait_for_port(port);
    Wanet {
        service,
        port,
        control_port,
        http: reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .unwrap(),
    }
}

impl Wanet {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.control_port, path)
    }

    pub fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self.http.get(self.url(path)).send().unwrap();
        (
            response.status().as_u16(),
            response.json().unwrap_or_default(),
        )
    }

    pub fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let response = self.http.post(self.url(path)).json(&body).send().unwrap();
        (
            response.status().as_u16(),
            response.json().unwrap_or_default(),
        )
    }

    /// Posts a shipped scenario (`scenarios/{name}` at the repository root) as it is.
    pub fn post_scenario(&self, name: &str) -> (u16, serde_json::Value) {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../scenarios")
            .join(name);
        let text = std::fs::read_to_string(&file).unwrap();
        let response = self
            .http
            .post(self.url("/control/scenarios"))
            .body(text)
            .send()
            .unwrap();
        (
            response.status().as_u16(),
            response.json().unwrap_or_default(),
        )
    }

    pub fn put(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let response = self.http.put(self.url(path)).json(&body).send().unwrap();
        (
            response.status().as_u16(),
            response.json().unwrap_or_default(),
        )
    }

    pub fn patch(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let response = self.http.patch(self.url(path)).json(&body).send().unwrap();
        (
            response.status().as_u16(),
            response.json().unwrap_or_default(),
        )
    }

    pub fn delete(&self, path: &str) -> u16 {
        self.http
            .delete(self.url(path))
            .send()
            .unwrap()
            .status()
            .as_u16()
    }

    /// A verified-name certificate for `vname`, as WhatsApp Manager would hand out.
    pub fn cert(&self, vname: &str) -> String {
        let (status, body) = self.post("/control/certs", serde_json::json!({ "vname": vname }));
        assert_eq!(status, 201, "{body}");
        body["cert"].as_str().unwrap().to_string()
    }

    /// The consumer `wa_id` writes `text` to the business; returns the inbound message id.
    pub fn consumer_says(&self, wa_id: &str, text: &str) -> String {
        let body = serde_json::json!({ "type": "text", "text": { "body": text } });
        self.consumer_sends(wa_id, body)
    }

    /// The consumer `wa_id` sends `count` text messages at once (`<prefix> <n>`); returns their ids.
    pub fn consumer_bursts(
        &self,
        wa_id: &str,
        count: usize,
        prefix: &str,
    ) -> std::collections::HashSet<String> {
        let (status, burst) = self.post(
            &format!("/control/consumers/{wa_id}/burst"),
            serde_json::json!({"count": count, "body_prefix": prefix}),
        );
        assert_eq!(status, 201, "{burst}");
        burst["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }

    /// The consumer `wa_id` sends `message` (a control-API message object); returns its id.
    pub fn consumer_sends(&self, wa_id: &str, message: Value) -> String {
        let (status, reply) = self.post(&format!("/control/consumers/{wa_id}/messages"), message);
        assert_eq!(status, 201, "{reply}");
        reply["id"].as_str().unwrap().to_string()
    }

    /// Polls what the phone of `wa_id` received until `pick` finds a message there; returns it.
    pub fn wait_for_received(
        &self,
        wa_id: &str,
        wait: Duration,
        pick: impl Fn(&[Value]) -> Option<Value>,
    ) -> Value {
        let deadline = Instant::now() + wait;
        loop {
            let consumer = self.consumer(wa_id);
            if let Some(found) = pick(consumer["received"].as_array().unwrap()) {
                return found;
            }
            assert!(Instant::now() < deadline, "{consumer}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn consumer(&self, wa_id: &str) -> serde_json::Value {
        let (status, body) = self.get(&format!("/control/consumers/{wa_id}"));
        assert_eq!(status, 200, "{body}");
        body
    }

    /// The ids of the business messages the phones of `phones` received, in the order their
    /// lists hold them (a message received twice shows twice).
    pub fn received_ids<S: AsRef<str>>(&self, phones: &[S]) -> Vec<String> {
        phones
            .iter()
            .flat_map(|p| {
                self.consumer(p.as_ref())["received"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|m| m["id"].as_str().map(str::to_string))
            .collect()
    }
}

/// wanet + coreapp + webapp on one database, the admin logged in, webhooks pointed at
/// `webhook_url`, and (when `register`) the business number registered and connected.
pub struct Messaging {
    pub wanet: Wanet,
    pub core: Service,
    pub core_port: u16,
    pub web: Running,
    pub admin: String,
    pub db_env: HashMap<String, String>,
}

/// wanet flags for tests: phones answer within milliseconds and always read, and keep every
/// message they received (the suites count them; the default keeps the newest 100).
pub const FAST_PHONES: &[&str] = &[
    "--delivery-latency-ms",
    "20",
    "--read-latency-ms",
    "20",
    "--read-probability",
    "1.0",
    "--received-max-per-consumer",
    "100000",
];

pub const BUSINESS_CC: &str = "1";
pub const BUSINESS_NUMBER: &str = "6315550000";
pub const BUSINESS_WA_ID: &str = "16315550000";

impl Messaging {
    pub fn start(
        db_env: &HashMap<String, String>,
        wanet_args: &[&str],
        webhook_url: &str,
    ) -> Messaging {
        let wanet = wanet(wanet_args);
        let mut core_env = db_env.clone();
        core_env.insert(
            "ONPREM__COREAPP__NETWORK_ADDRESS".into(),
            format!("127.0.0.1:{}", wanet.port),
        );
        let (core, core_port) = coreapp(&core_env);
        let web = webapp(db_env, core_port);
        let admin = web.client.first_login(crate::ADMIN_PASSWORD);
        let settings = serde_json::json!({
            "webhooks": { "url": webhook_url, "message": { "sent": true, "delivered": true, "read": true } },
            "callback_backoff_delay_ms": 200,
            "max_callback_backoff_delay_ms": 1000,
        });
        web.client
            .call(
                "PATCH",
                "/v1/settings/application",
                Some(&admin),
                Some(settings),
            )
            .expect_status(200);
        Messaging {
            wanet,
            core,
            core_port,
            web,
            admin,
            db_env: core_env,
        }
    }

    pub fn api(&self) -> &Client {
        &self.web.client
    }

    /// `PATCH /v1/settings/application` as the admin with `settings`; expects 200.
    pub fn patch_settings(&self, settings: Value) {
        self.api()
            .call(
                "PATCH",
                "/v1/settings/application",
                Some(&self.admin),
                Some(settings),
            )
            .expect_status(200);
    }

    /// `POST /v1/settings/application/media/providers` as the admin with `providers`; expects
    /// 200.
    pub fn set_media_providers(&self, providers: Value) {
        self.api()
            .call(
                "POST",
                "/v1/settings/application/media/providers",
                Some(&self.admin),
                Some(providers),
            )
            .expect_status(200);
    }

    /// `POST /v1/media` as the admin with Content-Type `mime` and `body`; the reply as it came.
    pub fn post_media(&self, mime: &str, body: impl Into<reqwest::blocking::Body>) -> Reply {
        let request = self
            .api()
            .request("POST", "/v1/media")
            .header("Authorization", &self.admin)
            .header("Content-Type", mime)
            .body(body);
        self.api().send(request)
    }

    /// Uploads `bytes` as `mime`, expects 201 and returns the new media id.
    pub fn upload_media(&self, mime: &str, bytes: &[u8]) -> String {
        let r = self.post_media(mime, bytes.to_vec());
        r.expect_status(201);
        r.body["media"][0]["id"].as_str().unwrap().to_string()
    }

    /// `GET /v1/media/{id}` as the admin: the raw response, for status, headers and streamed bytes.
    pub fn get_media(&self, id: &str) -> reqwest::blocking::Response {
        self.api()
            .request("GET", &format!("/v1/media/{id}"))
            .header("Authorization", &self.admin)
            .send()
            .unwrap()
    }

    /// The namespace of the first template `GET /v1/templates` lists (expects 200).
    pub fn template_namespace(&self) -> String {
        let r = self
            .api()
            .call("GET", "/v1/templates", Some(&self.admin), None);
        r.expect_status(200);
        r.body["templates"][0]["namespace"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// `POST /v1/account` + the code from wanet + `POST /v1/account/verify`, then waits for
    /// `connected`.
    pub fn register(&self) {
        let cert = self.wanet.cert("Acme Corp");
        let body = serde_json::json!({ "cc": BUSINESS_CC, "phone_number": BUSINESS_NUMBER, "method": "sms", "cert": cert });
        let r = self
            .api()
            .call("POST", "/v1/account", Some(&self.admin), Some(body));
        r.expect_status(202);
        assert_eq!(r.body["account"][0]["vname"], "Acme Corp");
        let (status, code) = self.wanet.get(&format!("/control/codes/{BUSINESS_WA_ID}"));
        assert_eq!(status, 200, "{code}");
        let code = code["code"].as_str().unwrap();
        let dashed = format!("{}-{}", &code[..3], &code[3..]);
        let r = self.api().call(
            "POST",
            "/v1/account/verify",
            Some(&self.admin),
            Some(serde_json::json!({ "code": dashed })),
        );
        r.expect_status(201);
        self.wait_for_gateway("connected");
    }

    pub fn gateway_status(&self) -> String {
        let r = self
            .api()
            .call("GET", "/v1/health", Some(&self.admin), None);
        r.body["health"]["gateway_status"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub fn wait_for_gateway(&self, wanted: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let status = self.gateway_status();
            if status == wanted {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "gateway stayed '{status}', wanted '{wanted}'\n{}",
                self.core.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Sends a text; returns the reply (201 with the id, or an error).
    pub fn send_text(&self, to: &str, body: &str) -> Reply {
        let message = serde_json::json!({ "to": to, "type": "text", "text": { "body": body } });
        self.api()
            .call("POST", "/v1/messages", Some(&self.admin), Some(message))
    }

    /// Kills the coreapp (SIGKILL) and starts a new one on the same port and database.
    pub fn restart_coreapp(&mut self) {
        self.core.kill();
        let mut vars = self.db_env.clone();
        vars.insert(
            "ONPREM__COREAPP__LISTEN".into(),
            format!("127.0.0.1:{}", self.core_port),
        );
        crate::stack::with_secrets_key(&mut vars);
        let mut core = Service::start("coreapp", &[], &vars);
        core.wait_for_port(self.core_port);
        self.core = core;
    }
}

/// A fresh test database on `backend`, a webhook receiver, and a (not yet registered)
/// messaging stack on them with `FAST_PHONES` and `extra_env`.
pub fn messaging_on(backend: Backend, extra_env: &[(&str, &str)]) -> (TestDb, Receiver, Messaging) {
    messaging_with(backend, extra_env, FAST_PHONES)
}

/// [`messaging_on`] with `wanet_args` as wanet's command line instead of `FAST_PHONES`.
pub fn messaging_with(
    backend: Backend,
    extra_env: &[(&str, &str)],
    wanet_args: &[&str],
) -> (TestDb, Receiver, Messaging) {
    let db = TestDb::new(backend);
    let receiver = Receiver::start();
    let mut vars = env(&[("ONPREM__DATABASE__URL", &db.url)]);
    vars.extend(env(extra_env));
    let stack = Messaging::start(&vars, wanet_args, &receiver.url());
    (db, receiver, stack)
}

/// [`messaging_on`] with the media files kept under `media_dir`.
pub fn messaging_with_media(
    backend: Backend,
    media_dir: &Path,
    extra_env: &[(&str, &str)],
) -> (TestDb, Receiver, Messaging) {
    let mut vars = vec![("ONPREM__MEDIA_DIR", media_dir.to_str().unwrap())];
    vars.extend_from_slice(extra_env);
    messaging_on(backend, &vars)
}

/// Another installation (coreapp + webapp, admin logged in) on its own database, connected to
/// an existing wanet: where a number is re-registered or a backup restored.
pub struct Installation {
    pub core: Service,
    pub web: Running,
    pub admin: String,
}

pub fn installation_on(db_url: &str, wanet_port: u16) -> Installation {
    let db_env = env(&[("ONPREM__DATABASE__URL", db_url)]);
    let mut core_env = db_env.clone();
    core_env.insert(
        "ONPREM__COREAPP__NETWORK_ADDRESS".into(),
        format!("127.0.0.1:{wanet_port}"),
    );
    let (core, core_port) = coreapp(&core_env);
    let web = webapp(&db_env, core_port);
    let admin = web.client.first_login(crate::ADMIN_PASSWORD);
    Installation { core, web, admin }
}
