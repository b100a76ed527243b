//! The real answers held to the OpenAPI document (`docs/openapi.json`): a wa-dev-like stack
//! (wanet, coreapp, webapp) is driven through every documented operation, and each answer is
//! checked against the document: its status must be documented (or fall to the error envelope),
//! its content type must be one the operation declares, and a JSON body must validate against the
//! schema (JSON Schema 2020-12, the dialect of OpenAPI 3.1). The webhooks the stack posts are
//! validated against the document's webhook schema. That the document lists exactly the served
//! routes is checked in `crates/webapp/tests/openapi.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::stack::{messaging_on, Messaging, BUSINESS_CC, BUSINESS_NUMBER, BUSINESS_WA_ID};
use e2e::{basic, Reply};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use wa_store::{testing::TestDb, Backend};

const DOCUMENT: &str = include_str!("../../../docs/openapi.json");
const CONSUMER: &str = "16315550100";
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Checks answers against the document and remembers which operations were exercised.
struct Checker<'a> {
    doc: Value,
    stack: &'a Messaging,
    /// (METHOD, path template) → the statuses seen.
    seen: RefCell<BTreeMap<(String, String), BTreeSet<u16>>>,
    problems: RefCell<Vec<String>>,
}

impl<'a> Checker<'a> {
    fn new(stack: &'a Messaging) -> Self {
        Checker {
            doc: serde_json::from_str(DOCUMENT).unwrap(),
            stack,
            seen: RefCell::default(),
            problems: RefCell::default(),
        }
    }

    /// `method` on `template` with `{parameters}` filled from `args` in order, a JSON body and
    /// the admin's token unless `auth` says otherwise.
    fn call(&self, method: &str, template: &str, args: &[&str], body: Option<Value>) -> Reply {
        let reply =
            self.stack
                .api()
                .call(method, &fill(template, args), Some(&self.stack.admin), body);
        self.check(method, template, &reply);
        reply
    }

    /// A request the test builds itself (other credentials, raw bodies, query strings).
    fn send(
        &self,
        method: &str,
        template: &str,
        build: impl FnOnce(&e2e::Client) -> reqwest::blocking::RequestBuilder,
    ) -> Reply {
        let reply = self.stack.api().send(build(self.stack.api()));
        self.check(method, template, &reply);
        reply
    }

    fn check(&self, method: &str, template: &str, reply: &Reply) {
        self.seen
            .borrow_mut()
            .entry((method.to_string(), template.to_string()))
            .or_default()
            .insert(reply.status);
        if let Err(problem) = self.conforms(method, template, reply) {
            self.problems.borrow_mut().push(format!(
                "{method} {template} -> {}: {problem}\n  body: {}",
                reply.status, reply.body
            ));
        }
    }

    fn conforms(&self, method: &str, template: &str, reply: &Reply) -> Result<(), String> {
        let operation = &self.doc["paths"][template][method.to_lowercase()];
        if operation.is_null() {
            return Err("not in the document".into());
        }
        let responses = &operation["responses"];
        let status = reply.status.to_string();
        let response = match responses.get(&status) {
            Some(response) => response,
            None if reply.status < 400 => return Err("status not documented".into()),
            None => &responses["default"],
        };
        let response = self.resolve(response);
        let Some(content) = response["content"].as_object() else {
            return Ok(()); // No body documented: nothing to validate.
        };
        let content_type = reply
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let media = content
            .get(&content_type)
            .or_else(|| content.get("*/*"))
            .ok_or_else(|| format!("content type {content_type:?} not documented"))?;
        if content_type != "application/json" {
            return Ok(());
        }
        self.validate(&media["schema"], &reply.body)
    }

    fn resolve<'v>(&'v self, node: &'v Value) -> &'v Value {
        match node["$ref"].as_str() {
            Some(target) => self
                .doc
                .pointer(target.trim_start_matches('#'))
                .unwrap_or(&Value::Null),
            None => node,
        }
    }

    fn validate(&self, schema: &Value, instance: &Value) -> Result<(), String> {
        validate(&self.doc, schema, instance)
    }

    /// Every documented operation must have been exercised.
    fn unexercised(&self) -> Vec<String> {
        let seen = self.seen.borrow();
        let mut missing = Vec::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
                let key = (method.to_uppercase(), path.clone());
                if !seen.contains_key(&key) {
                    missing.push(format!("{} {path}", key.0));
                }
            }
        }
        missing
    }
}

/// Validates `instance` against `schema`, whose `#/components/...` references resolve because
/// the document's components travel along at the root.
fn validate(doc: &Value, schema: &Value, instance: &Value) -> Result<(), String> {
    let rooted = json!({ "allOf": [schema], "components": doc["components"] });
    let validator = jsonschema::validator_for(&rooted).map_err(|e| format!("schema: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// The validation can fail: through references, on a wrong type, a missing key or a bad enum.
#[test]
fn answers_that_break_the_document_are_refused() {
    let doc: Value = serde_json::from_str(DOCUMENT).unwrap();
    let envelope = json!({ "$ref": "#/components/schemas/ErrorEnvelope" });
    let meta = json!({ "api_status": "stable", "version": "2.57.2" });
    let good = json!({ "errors": [{ "code": 1006, "title": "Resource not found" }], "meta": meta });
    assert_eq!(validate(&doc, &envelope, &good), Ok(()));
    for bad in [
        json!({ "errors": [{ "code": "1006", "title": "Resource not found" }], "meta": meta }),
        json!({ "errors": [{ "code": 1006 }], "meta": meta }),
        json!({ "errors": [], "meta": meta }),
        json!({ "errors": [{ "code": 1006, "title": "x" }] }),
    ] {
        assert!(validate(&doc, &envelope, &bad).is_err(), "{bad}");
    }
    let status = &doc["paths"]["/v1/messages/{id}"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    let answer = |direction: &str| json!({ "messages": [{ "id": "gB1", "status": "sent", "direction": direction }], "meta": meta });
    assert_eq!(validate(&doc, status, &answer("outbound")), Ok(()));
    assert!(validate(&doc, status, &answer("sideways")).is_err());
}

/// `template` with each `{parameter}` replaced by the next of `args`.
fn fill(template: &str, args: &[&str]) -> String {
    let mut args = args.iter();
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                args.next().copied().unwrap_or(segment)
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn every_operation_answers_as_the_openapi_document_says() {
    let (_db, receiver, stack): (TestDb, _, Messaging) = messaging_on(Backend::Sqlite, &[]);
    let c = Checker::new(&stack);

    health_and_users(&c);
    registration(&c);
    settings(&c);
    profile(&c);
    certificates(&c);
    media(&c);
    messaging(&c, &receiver);
    stickerpacks(&c);
    monitoring(&c);

    let webhooks =
        receiver.wait_until(Duration::from_secs(30), "statuses and messages", |bodies| {
            bodies.iter().any(|b| b["statuses"].is_array())
                && bodies.iter().any(|b| b["messages"].is_array())
        });
    let schema = json!({ "$ref": "#/components/schemas/Webhook" });
    for body in &webhooks {
        if let Err(problem) = c.validate(&schema, body) {
            c.problems
                .borrow_mut()
                .push(format!("webhook: {problem}\n  body: {body}"));
        }
    }

    let problems = c.problems.borrow();
    assert!(
        problems.is_empty(),
        "{} answers break the document:\n{}",
        problems.len(),
        problems.join("\n")
    );
    let missing = c.unexercised();
    assert!(missing.is_empty(), "operations not exercised: {missing:#?}");
    eprintln!(
        "{} operations exercised, {} (operation, status) pairs checked, {} webhooks",
        c.seen.borrow().len(),
        c.seen.borrow().values().map(BTreeSet::len).sum::<usize>(),
        webhooks.len()
    );
}

fn health_and_users(c: &Checker) {
    c.send("GET", "/v1/openapi.json", |api| {
        api.request("GET", "/v1/openapi.json")
    })
    .expect_status(200);
    c.call("GET", "/v1/health", &[], None).expect_status(200);
    c.send("POST", "/v1/users/login", |api| {
        api.request("POST", "/v1/users/login")
            .header("Authorization", basic("admin", e2e::ADMIN_PASSWORD))
    })
    .expect_status(200);
    c.send("POST", "/v1/users/login", |api| {
        api.request("POST", "/v1/users/login")
            .header("Authorization", basic("admin", "wrong"))
    })
    .expect_status(401);
    let viewer = json!({"username": "viewer", "password": "V1ewer!Pass"});
    c.call("POST", "/v1/users", &[], Some(viewer))
        .expect_status(201);
    c.call("GET", "/v1/users/{username}", &["viewer"], None)
        .expect_status(200);
    c.call("GET", "/v1/users/{username}", &["nobody"], None)
        .expect_status(404);
    let password = json!({"password": "V1ewer!Pass2"});
    c.call("PUT", "/v1/users/{username}", &["viewer"], Some(password))
        .expect_status(200);
    let token = c.stack.api().bearer("viewer", "V1ewer!Pass2");
    c.send("POST", "/v1/users/logout", |api| {
        api.request("POST", "/v1/users/logout")
            .header("Authorization", &token)
    })
    .expect_status(200);
    c.call("DELETE", "/v1/users/{username}", &["viewer"], None)
        .expect_status(200);
}

fn registration(c: &Checker) {
    let cert = c.stack.wanet.cert("Acme Corp");
    let request = json!({ "cc": BUSINESS_CC, "phone_number": BUSINESS_NUMBER, "method": "sms", "cert": cert });
    c.call("POST", "/v1/account", &[], Some(json!({"cc": "1"})))
        .expect_status(400);
    c.call("POST", "/v1/account", &[], Some(request))
        .expect_status(202);
    let (_, code) = c
        .stack
        .wanet
        .get(&format!("/control/codes/{BUSINESS_WA_ID}"));
    let code = code["code"].as_str().unwrap().to_string();
    c.call(
        "POST",
        "/v1/account/verify",
        &[],
        Some(json!({"code": "000000"})),
    )
    .expect_status(403);
    c.call(
        "POST",
        "/v1/account/verify",
        &[],
        Some(json!({ "code": code })),
    )
    .expect_status(201);
    c.stack.wait_for_gateway("connected");
    c.call("GET", "/v1/account/shards", &[], None);
    let shards = json!({"cc": BUSINESS_CC, "phone_number": BUSINESS_NUMBER, "shards": 1});
    c.call("POST", "/v1/account/shards", &[], Some(shards));
    c.call(
        "POST",
        "/v1/settings/account/two-step",
        &[],
        Some(json!({"pin": "123456"})),
    )
    .expect_status(200);
    c.call("DELETE", "/v1/settings/account/two-step", &[], None)
        .expect_status(200);
}

fn settings(c: &Checker) {
    let webhooks = c.call("GET", "/v1/settings/application", &[], None);
    webhooks.expect_status(200);
    let saved = webhooks.body["settings"]["application"]["webhooks"].clone();
    c.call("DELETE", "/v1/settings/application", &[], None)
        .expect_status(200);
    let patch = json!({ "webhooks": saved, "callback_backoff_delay_ms": 200 });
    c.call("PATCH", "/v1/settings/application", &[], Some(patch))
        .expect_status(200);
    c.call(
        "PATCH",
        "/v1/settings/application",
        &[],
        Some(json!({"sent_status": "x"})),
    )
    .expect_status(400);
    c.call("POST", "/v1/settings/application/webhooks/test", &[], None)
        .expect_status(200);
    let providers = json!([{"name": "files", "type": "www", "config": {"bearer": "t0ken"}}]);
    let providers_path = "/v1/settings/application/media/providers";
    c.call("POST", providers_path, &[], Some(providers))
        .expect_status(200);
    c.call("GET", providers_path, &[], None).expect_status(200);
    c.call(
        "DELETE",
        "/v1/settings/application/media/providers/{name}",
        &["files"],
        None,
    )
    .expect_status(200);
    let backup = c.call(
        "POST",
        "/v1/settings/backup",
        &[],
        Some(json!({"password": "s3cret-backup"})),
    );
    backup.expect_status(200);
    let data = backup.body["settings"]["data"].clone();
    let restore = json!({"password": "s3cret-backup", "data": data});
    c.call("POST", "/v1/settings/restore", &[], Some(restore))
        .expect_status(200);
    c.call("PUT", "/v1/services/message/gc", &[], None)
        .expect_status(200);
    c.call("PUT", "/v1/services/media/gc", &[], None)
        .expect_status(200);
}

fn profile(c: &Checker) {
    let about = "/v1/settings/profile/about";
    c.call(
        "PATCH",
        about,
        &[],
        Some(json!({"text": "At your service"})),
    )
    .expect_status(200);
    c.call("GET", about, &[], None).expect_status(200);
    let photo = "/v1/settings/profile/photo";
    c.call("GET", photo, &[], None).expect_status(404);
    let admin = c.stack.admin.clone();
    c.send("POST", photo, |api| {
        api.request("POST", photo)
            .header("Authorization", &admin)
            .header("Content-Type", "image/jpeg")
            .body(e2e::files::jpeg(640, 640, 3000))
    });
    c.call("GET", photo, &[], None).expect_status(200);
    c.send("GET", photo, |api| {
        api.request("GET", "/v1/settings/profile/photo?format=link")
            .header("Authorization", &admin)
    })
    .expect_status(200);
    c.call("DELETE", photo, &[], None).expect_status(200);
    let business = "/v1/settings/business/profile";
    let profile = json!({"address": "1 Main St", "description": "Shop", "email": "shop@example.com", "vertical": "Shopping and Retail", "websites": ["https://example.com"]});
    c.call("POST", business, &[], Some(profile))
        .expect_status(200);
    c.call("GET", business, &[], None).expect_status(200);
    let compliance = "/v1/settings/business/compliance_info";
    c.call("GET", compliance, &[], None).expect_status(200);
    c.call("POST", compliance, &[], Some(json!({"entity_name": 7})));
}

fn certificates(c: &Checker) {
    let admin = c.stack.admin.clone();
    let text = |path: &'static str, pem: String| {
        c.send("POST", path, |api| {
            api.request("POST", path)
                .header("Authorization", &admin)
                .header("Content-Type", "text/plain")
                .body(pem)
        })
    };
    c.call("GET", "/v1/certificates/external/ca", &[], None)
        .expect_status(200);
    text("/v1/certificates/external", "not a certificate".into()).expect_status(400);
    let webhooks_ca = "/v1/certificates/webhooks/ca";
    c.call("GET", webhooks_ca, &[], None);
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = params.self_signed(&key).unwrap();
    text(webhooks_ca, ca.pem()).expect_status(200);
    c.call("GET", webhooks_ca, &[], None).expect_status(200);
    c.call("DELETE", webhooks_ca, &[], None).expect_status(200);
    let cloud = "/v1/settings/cloud";
    c.call("GET", cloud, &[], None).expect_status(200);
    let sign = json!({"sign_onprem_webhooks": true});
    c.call("PATCH", cloud, &[], Some(sign)).expect_status(200);
    let unknown = json!({"callback_url": "https://example.com/hook"});
    c.call("PATCH", cloud, &[], Some(unknown))
        .expect_status(400);
    let off = json!({"sign_onprem_webhooks": false});
    c.call("PATCH", cloud, &[], Some(off)).expect_status(200);
    let tokens = "/v1/settings/cloud/tokens";
    let integration = json!({"name": "crm", "role": "ROLE_USER"});
    let created = c.call("POST", tokens, &[], Some(integration));
    created.expect_status(201);
    let id = created.body["tokens"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let nameless = json!({"role": "ROLE_USER"});
    c.call("POST", tokens, &[], Some(nameless))
        .expect_status(400);
    c.call("GET", tokens, &[], None).expect_status(200);
    let one = "/v1/settings/cloud/tokens/{id}";
    c.call("DELETE", one, &[&id], None).expect_status(200);
    c.call("DELETE", one, &[&id], None).expect_status(404);
}

fn media(c: &Checker) {
    let admin = c.stack.admin.clone();
    let upload = c.send("POST", "/v1/media", |api| {
        api.request("POST", "/v1/media")
            .header("Authorization", &admin)
            .header("Content-Type", "image/jpeg")
            .body(e2e::files::jpeg(300, 300, 2000))
    });
    upload.expect_status(201);
    let id = upload.body["media"][0]["id"].as_str().unwrap().to_string();
    c.call("GET", "/v1/media/{id}", &[&id], None)
        .expect_status(200);
    c.call("DELETE", "/v1/media/{id}", &[&id], None)
        .expect_status(200);
    c.call("GET", "/v1/media/{id}", &[&id], None)
        .expect_status(404);
}

fn messaging(c: &Checker, receiver: &e2e::Receiver) {
    let check =
        json!({"blocking": "wait", "contacts": ["+1 631 555 0100", "+1234"], "force_check": true});
    c.call("POST", "/v1/contacts", &[], Some(check))
        .expect_status(200);
    let text = json!({"to": CONSUMER, "type": "text", "text": {"body": "Hello"}});
    let sent = c.call("POST", "/v1/messages", &[], Some(text));
    sent.expect_status(201);
    let id = sent.body["messages"][0]["id"].as_str().unwrap().to_string();
    c.call(
        "POST",
        "/v1/messages",
        &[],
        Some(json!({"to": CONSUMER, "type": "text"})),
    )
    .expect_status(400);
    c.call("GET", "/v1/messages/{id}", &[&id], None)
        .expect_status(200);
    c.call(
        "GET",
        "/v1/messages/{id}",
        &["gBGGFmkiWVVPAgkgQkwi7IORac0x"],
        None,
    )
    .expect_status(404);
    let inbound = c.stack.wanet.consumer_says(CONSUMER, "Hi there");
    receiver.wait_for_inbound(Duration::from_secs(30), &inbound);
    c.call(
        "PUT",
        "/v1/messages/{id}",
        &[&inbound],
        Some(json!({"status": "read"})),
    );
    let identity = c.call("GET", "/v1/contacts/{wa_id}/identity", &[CONSUMER], None);
    identity.expect_status(200);
    let hash = json!({"hash": identity.body["contacts"]["hash"]});
    c.call(
        "PUT",
        "/v1/contacts/{wa_id}/identity",
        &[CONSUMER],
        Some(hash),
    )
    .expect_status(200);
    c.call("GET", "/v1/templates", &[], None).expect_status(200);
}

fn stickerpacks(c: &Checker) {
    let pack = json!({"name": "Office", "publisher": "Acme"});
    let created = c.call("POST", "/v1/stickerpacks", &[], Some(pack));
    created.expect_status(201);
    let pack = created.body["stickerpacks"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    c.call("GET", "/v1/stickerpacks", &[], None)
        .expect_status(200);
    c.call("GET", "/v1/stickerpacks/{pack}", &[&pack], None)
        .expect_status(200);
    c.call(
        "PATCH",
        "/v1/stickerpacks/{pack}",
        &[&pack],
        Some(json!({"name": "Desk"})),
    )
    .expect_status(200);
    let admin = c.stack.admin.clone();
    let image = c.send("POST", "/v1/media", |api| {
        api.request("POST", "/v1/media")
            .header("Authorization", &admin)
            .header("Content-Type", "image/webp")
            .body(e2e::files::webp(512, 512, false, 20_000, 1))
    });
    let image = image.body["media"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let stickers = "/v1/stickerpacks/{pack}/stickers";
    let sticker = json!({"image_data_id": image, "emojis": ["🙂"]});
    c.call("POST", stickers, &[&pack], Some(sticker))
        .expect_status(201);
    c.call("GET", stickers, &[&pack], None).expect_status(200);
    let one = "/v1/stickerpacks/{pack}/stickers/{index}";
    c.call("GET", one, &[&pack, "0"], None).expect_status(200);
    c.call("PATCH", one, &[&pack, "0"], Some(json!({"emojis": ["🎉"]})))
        .expect_status(200);
    c.call("DELETE", one, &[&pack, "0"], None)
        .expect_status(200);
    c.call("DELETE", "/v1/stickerpacks/{pack}", &[&pack], None)
        .expect_status(200);
}

fn monitoring(c: &Checker) {
    let admin = c.stack.admin.clone();
    for path in [
        "/v1/stats/app",
        "/v1/stats/db",
        "/v1/stats/app/internal",
        "/v1/stats/db/internal",
        "/metrics",
    ] {
        c.call("GET", path, &[], None).expect_status(200);
        c.send("GET", path, |api| {
            api.request("GET", &format!("{path}?format=prometheus"))
                .header("Authorization", &admin)
        })
        .expect_status(200);
    }
    c.call("GET", "/v1/support", &[], None).expect_status(200);
}
