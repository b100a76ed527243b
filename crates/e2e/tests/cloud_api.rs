//! The Cloud API surface end to end (issue 20, first slice): wanet, coreapp and webapp as
//! separate processes on each backend; the business registers through On-Prem, then an
//! integration speaking Cloud finds its ids, sends a text and a template, marks an inbound
//! message read, and gets Cloud errors for what the core refuses. Statuses still arrive as
//! On-Prem webhooks (the Cloud webhook envelope is a later slice), so the window failure is seen
//! there with its On-Prem code, and its Cloud code through the one table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::client::Reply;
use e2e::stack::{messaging_on, Messaging, BUSINESS_WA_ID};
use e2e::webhooks::{has_status, with_status};
use serde_json::{json, Value};
use std::time::Duration;
use wa_api::cloud::{ids, CloudCode};
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);
/// Writes first, so free-form messages reach them.
const CUSTOMER: &str = "16315550100";
/// Never wrote: only templates reach them.
const STRANGER: &str = "16315550200";

#[track_caller]
fn expect_cloud_error(reply: &Reply, status: u16, code: u64) {
    assert_eq!(
        (reply.status, reply.body["error"]["code"].as_u64()),
        (status, Some(code)),
        "{:#}",
        reply.body
    );
    let error = &reply.body["error"];
    assert_eq!(error["error_data"]["messaging_product"], "whatsapp");
    assert!(error["error_data"]["details"].is_string(), "{error}");
    assert!(error["type"].is_string() && error["fbtrace_id"].is_string());
}

struct Cloud<'a> {
    stack: &'a Messaging,
    phone_number_id: String,
}

impl Cloud<'_> {
    fn post(&self, body: Value) -> Reply {
        let path = format!("/v21.0/{}/messages", self.phone_number_id);
        self.stack
            .api()
            .call("POST", &path, Some(&self.stack.admin), Some(body))
    }

    fn post_raw(&self, body: &str) -> Reply {
        let path = format!("/v21.0/{}/messages", self.phone_number_id);
        let request = self
            .stack
            .api()
            .request("POST", &path)
            .header("Authorization", &self.stack.admin)
            .header("Content-Type", "application/json")
            .body(body.to_string());
        self.stack.api().send(request)
    }

    /// `POST /{phone-number-id}/media` with `bytes` as the `file` part; returns the media id.
    fn upload(&self, mime: &str, bytes: &[u8]) -> String {
        let boundary = "cloud-e2e-5c1d0b";
        let mut body = Vec::new();
        for (name, value) in [("messaging_product", "whatsapp"), ("type", mime)] {
            let field = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            );
            body.extend_from_slice(field.as_bytes());
        }
        let file = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo\"\r\nContent-Type: {mime}\r\n\r\n"
        );
        body.extend_from_slice(file.as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = self
            .stack
            .api()
            .request("POST", &format!("/v21.0/{}/media", self.phone_number_id))
            .header("Authorization", &self.stack.admin)
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        let reply = self.stack.api().send(request);
        reply.expect_status(200);
        reply.body["id"].as_str().unwrap().to_string()
    }

    /// Sends `message` (a Cloud body without `messaging_product`), expects 200 and the Cloud
    /// answer; returns the message id.
    fn send(&self, to: &str, message: Value) -> String {
        let mut body =
            json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to});
        body.as_object_mut()
            .unwrap()
            .extend(message.as_object().unwrap().clone());
        let reply = self.post(body);
        reply.expect_status(200);
        assert_eq!(reply.body["messaging_product"], "whatsapp");
        assert_eq!(
            reply.body["contacts"],
            json!([{"input": to, "wa_id": to}]),
            "{}",
            reply.body
        );
        let id = reply.body["messages"][0]["id"].as_str().unwrap();
        assert!(id.starts_with("gB"), "{id}");
        id.to_string()
    }
}

fn cloud_surface(backend: Backend) {
    let (_db, receiver, stack) = messaging_on(backend, &[]);
    stack.register();
    let api = stack.api();

    // The integration finds its number under the business account.
    let waba = format!("/v21.0/{}/phone_numbers", ids::waba_id(BUSINESS_WA_ID));
    let listed = api.call("GET", &waba, Some(&stack.admin), None);
    listed.expect_status(200);
    let number = &listed.body["data"][0];
    assert_eq!(number["display_phone_number"], format!("+{BUSINESS_WA_ID}"));
    assert_eq!(number["verified_name"], "Acme Corp");
    let cloud = Cloud {
        stack: &stack,
        phone_number_id: number["id"].as_str().unwrap().to_string(),
    };
    let one = api.call(
        "GET",
        &format!("/v18.0/{}", cloud.phone_number_id),
        Some(&stack.admin),
        None,
    );
    assert_eq!((one.status, &one.body), (200, number));

    // The business profile, Cloud verticals and all.
    let profile = format!("/v21.0/{}/whatsapp_business_profile", cloud.phone_number_id);
    let update = json!({"messaging_product": "whatsapp", "about": "Open 9 to 5",
        "vertical": "RETAIL", "email": "shop@example.com", "websites": ["https://shop.example.com"]});
    let r = api.call("POST", &profile, Some(&stack.admin), Some(update));
    r.expect_status(200);
    assert_eq!(r.body, json!({"success": true}));
    let r = api.call("GET", &profile, Some(&stack.admin), None);
    r.expect_status(200);
    let shown = &r.body["data"][0];
    assert_eq!(shown["about"], "Open 9 to 5");
    assert_eq!(shown["vertical"], "RETAIL");
    assert_eq!(shown["email"], "shop@example.com");
    assert_eq!(shown["websites"], json!(["https://shop.example.com"]));
    let bad_email = json!({"messaging_product": "whatsapp", "email": "not an address"});
    expect_cloud_error(
        &api.call("POST", &profile, Some(&stack.admin), Some(bad_email)),
        400,
        131009,
    );
    let onprem = api.call(
        "GET",
        "/v1/settings/business/profile",
        Some(&stack.admin),
        None,
    );
    assert_eq!(
        onprem.body["settings"]["business"]["profile"]["vertical"],
        "Shopping and Retail"
    );

    // The templates the business has, one entry per translation.
    let templates = format!("/v21.0/{}/message_templates", ids::waba_id(BUSINESS_WA_ID));
    let listed = api.call(
        "GET",
        &format!("{templates}?name=hello_world"),
        Some(&stack.admin),
        None,
    );
    listed.expect_status(200);
    let languages: Vec<&Value> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["language"])
        .collect();
    assert!(languages.contains(&&json!("en_US")), "{}", listed.body);
    let hello = &listed.body["data"][0];
    assert_eq!(hello["name"], "hello_world");
    assert_eq!(hello["status"], "APPROVED");
    assert_eq!(hello["id"].as_str().unwrap().len(), 15);

    // A text within the customer-service window: sent and delivered, as On-Prem webhooks.
    let inbound = stack.wanet.consumer_says(CUSTOMER, "Hi shop");
    receiver.wait_until(WAIT, "the inbound message", |b| {
        e2e::webhooks::inbound_ids(b).contains(&inbound)
    });
    let text = cloud.send(
        CUSTOMER,
        json!({"type": "text", "text": {"body": "Hello from Cloud", "preview_url": false},
               "context": {"message_id": inbound}}),
    );
    receiver.wait_until(WAIT, "sent and delivered of the text", |b| {
        has_status(b, &text, "sent") && has_status(b, &text, "delivered")
    });

    // Media uploaded as Cloud's multipart form (large enough to arrive in many chunks), sent by
    // id; an interactive message and a reaction go the same way.
    let jpeg = e2e::files::jpeg(640, 480, 300_000);
    let image_id = cloud.upload("image/jpeg", &jpeg);
    let media = api.call(
        "GET",
        &format!("/v21.0/{image_id}"),
        Some(&stack.admin),
        None,
    );
    media.expect_status(200);
    assert_eq!(media.body["mime_type"], "image/jpeg");
    assert_eq!(media.body["file_size"], jpeg.len());
    assert_eq!(media.body["sha256"], e2e::files::sha256_hex(&jpeg));
    let image = cloud.send(
        CUSTOMER,
        json!({"type": "image", "image": {"id": image_id, "caption": "Our shop"}}),
    );
    let buttons = cloud.send(
        CUSTOMER,
        json!({"type": "interactive", "interactive": {"type": "button", "body": {"text": "Continue?"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                                   {"type": "reply", "reply": {"id": "no", "title": "No"}}]}}}),
    );
    let reaction = cloud.send(
        CUSTOMER,
        json!({"type": "reaction", "reaction": {"message_id": inbound, "emoji": "\u{1f44d}"}}),
    );
    receiver.wait_until(
        WAIT,
        "sent of the image, the buttons and the reaction",
        |b| {
            [&image, &buttons, &reaction]
                .iter()
                .all(|id| has_status(b, id, "sent"))
        },
    );

    // The read form reaches the phone.
    let read = cloud
        .post(json!({"messaging_product": "whatsapp", "status": "read", "message_id": inbound}));
    read.expect_status(200);
    assert_eq!(read.body, json!({"success": true}));
    assert_eq!(
        stack.wanet.consumer(CUSTOMER)["read_receipts"],
        json!([inbound])
    );
    let unknown_read = cloud
        .post(json!({"messaging_product": "whatsapp", "status": "read", "message_id": "ABGGnope"}));
    expect_cloud_error(&unknown_read, 400, 100);

    // A template by name and language alone reaches a stranger.
    let template = cloud.send(
        STRANGER,
        json!({"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}}),
    );
    receiver.wait_until(WAIT, "sent and delivered of the template", |b| {
        has_status(b, &template, "sent") && has_status(b, &template, "delivered")
    });
    let missing = cloud.post(
        json!({"messaging_product": "whatsapp", "to": STRANGER, "type": "template",
        "template": {"name": "no_such_template", "language": {"code": "en_US"}}}),
    );
    expect_cloud_error(&missing, 404, 132001);

    // Free-form text outside the window: accepted, then failed with 470, which Cloud calls 131047.
    let outside = cloud.send(
        STRANGER,
        json!({"type": "text", "text": {"body": "Hello stranger"}}),
    );
    let bodies = receiver.wait_until(WAIT, "the window failure", |b| {
        has_status(b, &outside, "failed")
    });
    let failed = with_status(&bodies, &outside, "failed")[0];
    let code = u32::try_from(failed["errors"][0]["code"].as_u64().unwrap()).unwrap();
    assert_eq!(code, 470, "{failed}");
    assert_eq!(CloudCode::for_onprem(code).code(), 131047);

    // What the core refuses comes back in the Cloud envelope with the Cloud code.
    let no_to =
        cloud.post(json!({"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}}));
    expect_cloud_error(&no_to, 400, 131008);
    let to_self = cloud.post(
        json!({"messaging_product": "whatsapp", "to": BUSINESS_WA_ID, "text": {"body": "x"}}),
    );
    expect_cloud_error(&to_self, 400, 131021);
    let empty_body =
        cloud.post(json!({"messaging_product": "whatsapp", "to": CUSTOMER, "text": {"body": 5}}));
    expect_cloud_error(&empty_body, 400, 131009);

    // Bad input never gets a 500.
    let raw_cases = [
        ("{\"messaging_product\": ", 100),
        ("\"just a string\"", 100),
        (
            "{\"to\": \"16315550100\", \"text\": {\"body\": \"x\"}}",
            100,
        ),
        (
            "{\"messaging_product\": [\"whatsapp\"], \"to\": \"1\"}",
            100,
        ),
        (
            "{\"messaging_product\": \"whatsapp\", \"to\": 16315550100}",
            131009,
        ),
        (
            "{\"messaging_product\": \"whatsapp\", \"to\": \"1\", \"type\": \"carousel\"}",
            131051,
        ),
    ];
    for (body, code) in raw_cases {
        expect_cloud_error(&cloud.post_raw(body), 400, code);
    }
    let elsewhere = api.call(
        "POST",
        "/v21.0/999999999999999/messages",
        Some(&stack.admin),
        Some(json!({"messaging_product": "whatsapp", "to": CUSTOMER, "text": {"body": "x"}})),
    );
    expect_cloud_error(&elsewhere, 400, 100);
    assert_eq!(elsewhere.body["error"]["error_subcode"], 33);
    let no_token = api.call("GET", &waba, Some("Bearer expired.or.forged"), None);
    expect_cloud_error(&no_token, 401, 190);
    assert_eq!(no_token.body["error"]["type"], "OAuthException");
}

#[test]
fn cloud_surface_on_sqlite() {
    cloud_surface(Backend::Sqlite);
}

#[test]
fn cloud_surface_on_mysql() {
    cloud_surface(Backend::Mysql);
}

#[test]
fn cloud_surface_on_postgres() {
    cloud_surface(Backend::Postgres);
}
