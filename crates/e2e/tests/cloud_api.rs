//! The Cloud API surface end to end (issue 20): wanet, coreapp and webapp as separate processes
//! on each backend; the business registers through On-Prem, then an integration speaking Cloud
//! finds its ids, subscribes its webhook endpoint (verified with the challenge), sends a text,
//! media, interactive messages and templates, marks an inbound message read, and gets Cloud
//! errors for what the core refuses. Its endpoint receives the inbound message and the statuses
//! as signed Cloud webhooks (checked against the app secret), the window failure with 131047 and
//! the tier's refusal with 131048, while the On-Prem endpoint keeps getting On-Prem bodies. It
//! deregisters the number and registers it again with the two-step PIN.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::client::Reply;
use e2e::receiver::Receiver;
use e2e::stack::{messaging_on, Messaging, BUSINESS_WA_ID};
use e2e::webhooks::{cloud_values, has_status, with_status};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wa_api::cloud::webhooks::signature_matches;
use wa_api::cloud::{ids, CloudCode};
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);
/// Writes first, so free-form messages reach them.
const CUSTOMER: &str = "16315550100";
/// Never wrote: only templates reach them.
const STRANGER: &str = "16315550200";
/// Beyond the tier once it is lowered to one user.
const BEYOND_TIER: &str = "16315550300";

/// The Cloud endpoint of the integration: every webhook it took, each signature checked.
struct CloudEndpoint {
    receiver: Receiver,
    app_secret: String,
}

impl CloudEndpoint {
    /// The `value`s of the Cloud webhooks taken so far; panics on a body that is not signed with
    /// the app secret or not in Cloud's envelope.
    fn values(&self) -> Vec<Value> {
        let attempts = self.receiver.attempts();
        for attempt in &attempts {
            let signature = attempt.signature.as_deref().unwrap_or_default();
            assert!(
                signature_matches(self.app_secret.as_bytes(), &attempt.raw, signature),
                "a Cloud webhook without a valid signature ({signature:?}): {}",
                attempt.body
            );
            assert_eq!(attempt.body["object"], "whatsapp_business_account");
            assert_eq!(attempt.body["entry"][0]["id"], ids::waba_id(BUSINESS_WA_ID));
        }
        let bodies: Vec<Value> = attempts.into_iter().map(|a| a.body).collect();
        cloud_values(&bodies)
    }

    fn wait_until(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + WAIT;
        loop {
            let values = self.values();
            if done(&values) {
                return values;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} as Cloud webhooks: {values:#?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The integration subscribes `endpoint` for Cloud webhooks; a wrong verify token is refused
/// first, as Meta refuses an endpoint that does not echo the challenge.
fn subscribe(stack: &Messaging) -> CloudEndpoint {
    let api = stack.api();
    let settings = api.call("GET", "/v1/settings/cloud", Some(&stack.admin), None);
    settings.expect_status(200);
    let cloud = &settings.body["settings"]["cloud"];
    assert_eq!(cloud["waba_id"], ids::waba_id(BUSINESS_WA_ID));
    assert_eq!(
        cloud["phone_number_id"],
        ids::phone_number_id(BUSINESS_WA_ID)
    );
    assert_eq!(cloud["callback_url"], Value::Null);
    let app_secret = cloud["app_secret"].as_str().unwrap().to_string();
    assert_eq!(app_secret.len(), 64, "{cloud}");

    let receiver = Receiver::start();
    receiver.verify_with("right-token");
    let apps = format!("/v21.0/{}/subscribed_apps", ids::waba_id(BUSINESS_WA_ID));
    let url = format!("http://127.0.0.1:{}/cloud", receiver.port);
    let wrong = json!({"override_callback_uri": url, "verify_token": "wrong-token"});
    let refused = api.call("POST", &apps, Some(&stack.admin), Some(wrong));
    expect_cloud_error(&refused, 400, 131009);
    assert_eq!(receiver.verifications(), 1);
    let listed = api.call("GET", &apps, Some(&stack.admin), None);
    assert_eq!(listed.body, json!({"data": []}));

    let right = json!({"override_callback_uri": url, "verify_token": "right-token"});
    let subscribed = api.call("POST", &apps, Some(&stack.admin), Some(right));
    subscribed.expect_status(200);
    assert_eq!(subscribed.body, json!({"success": true}));
    let listed = api.call("GET", &apps, Some(&stack.admin), None);
    assert_eq!(
        listed.body["data"][0]["override_callback_uri"],
        url.as_str()
    );
    assert_eq!(
        listed.body["data"][0]["whatsapp_business_api_data"]["id"],
        ids::app_id(BUSINESS_WA_ID)
    );
    // The administrator reads the verify token back, as Meta's app dashboard shows it.
    let settings = api.call("GET", "/v1/settings/cloud", Some(&stack.admin), None);
    assert_eq!(
        settings.body["settings"]["cloud"]["verify_token"],
        "right-token"
    );
    CloudEndpoint {
        receiver,
        app_secret,
    }
}

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
    let endpoint = subscribe(&stack);

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

    // A template submitted through the Cloud path is reviewed by the network; its approval
    // reaches the Cloud endpoint as message_template_status_update, and nothing reaches the
    // On-Prem endpoint (On-Prem has no such webhook).
    let submission = json!({"name": "cloud_status_demo", "language": "en_US",
        "category": "UTILITY", "components": [{"type": "BODY", "text": "Your code is ready."}]});
    let created = api.call("POST", &templates, Some(&stack.admin), Some(submission));
    created.expect_status(200);
    assert_eq!(created.body["status"], "PENDING");
    let template_id = created.body["id"].clone();
    let values = endpoint.wait_until("the template's approval", |v| {
        v.iter()
            .any(|v| v["message_template_id"] == template_id && v["event"] == "APPROVED")
    });
    let approved = values
        .iter()
        .find(|v| v["message_template_id"] == template_id)
        .unwrap();
    assert_eq!(
        approved,
        &json!({"event": "APPROVED", "message_template_id": template_id,
                "message_template_name": "cloud_status_demo",
                "message_template_language": "en_US", "reason": "NONE"})
    );
    let field = endpoint
        .receiver
        .attempts()
        .into_iter()
        .map(|a| a.body["entry"][0]["changes"][0].clone())
        .find(|change| change["value"]["message_template_id"] == template_id)
        .map(|change| change["field"].clone());
    assert_eq!(field, Some(json!("message_template_status_update")));

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
    // The Cloud endpoint got the same events in Cloud's envelope.
    let values = endpoint.wait_until("the inbound message and the text's statuses", |v| {
        e2e::webhooks::inbound_ids(v).contains(&inbound)
            && has_status(v, &text, "sent")
            && has_status(v, &text, "delivered")
    });
    let message = values
        .iter()
        .find(|v| v["messages"][0]["id"] == inbound.as_str())
        .unwrap();
    assert_eq!(message["messaging_product"], "whatsapp");
    assert_eq!(
        message["metadata"],
        json!({"display_phone_number": BUSINESS_WA_ID,
               "phone_number_id": ids::phone_number_id(BUSINESS_WA_ID)})
    );
    assert_eq!(message["messages"][0]["text"]["body"], "Hi shop");
    assert_eq!(message["contacts"][0]["wa_id"], CUSTOMER);
    let delivered = with_status(&values, &text, "delivered")[0];
    assert_eq!(delivered["recipient_id"], CUSTOMER);
    assert!(delivered["timestamp"].is_string(), "{delivered}");

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
    let values = endpoint.wait_until("the window failure", |v| has_status(v, &outside, "failed"));
    let error = &with_status(&values, &outside, "failed")[0]["errors"][0];
    assert_eq!(error["code"], 131047, "{error}");
    assert!(error["title"].is_string() && error["error_data"]["details"].is_string());

    // A throttling case: beyond the number's tier the network refuses business-initiated
    // messages (On-Prem 471), which Cloud reports as 131048.
    let limits = format!("/control/businesses/{BUSINESS_WA_ID}/limits");
    let (status, answer) = stack.wanet.post(&limits, json!({"tier": 1}));
    assert_eq!(status, 200, "{answer}");
    let beyond = cloud.send(
        BEYOND_TIER,
        json!({"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}}),
    );
    let values = endpoint.wait_until("the tier's refusal", |v| has_status(v, &beyond, "failed"));
    let error = &with_status(&values, &beyond, "failed")[0]["errors"][0];
    assert_eq!(error["code"], 131048, "{error}");
    let bodies = receiver.wait_until(WAIT, "the tier's refusal", |b| {
        has_status(b, &beyond, "failed")
    });
    assert_eq!(
        with_status(&bodies, &beyond, "failed")[0]["errors"][0]["code"],
        471
    );

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

    deregistering_and_registering_again(&stack, &receiver, &endpoint, &cloud);
    on_prem_signature_and_unsubscribing(&stack, &receiver, &endpoint, &cloud);
}

/// `/register` sets the two-step PIN the number lacked; `/deregister` takes the number out of
/// service (sends 133010, the coreapp unregistered) while what a customer writes waits in the
/// network; a wrong PIN is 133005; the right one brings the number back with the held message.
fn deregistering_and_registering_again(
    stack: &Messaging,
    receiver: &Receiver,
    endpoint: &CloudEndpoint,
    cloud: &Cloud,
) {
    let api = stack.api();
    let path = |action: &str| format!("/v21.0/{}/{action}", cloud.phone_number_id);
    let register = |pin: &str| {
        let body = json!({"messaging_product": "whatsapp", "pin": pin});
        api.call("POST", &path("register"), Some(&stack.admin), Some(body))
    };
    let registered = register("135790");
    assert_eq!(
        (registered.status, &registered.body),
        (200, &json!({"success": true}))
    );

    let r = api.call("POST", &path("deregister"), Some(&stack.admin), None);
    assert_eq!((r.status, &r.body), (200, &json!({"success": true})));
    stack.wait_for_gateway("unregistered");
    let number = api.call(
        "GET",
        &format!("/v21.0/{}", cloud.phone_number_id),
        Some(&stack.admin),
        None,
    );
    assert_eq!(number.body["status"], "DISCONNECTED", "{}", number.body);
    let text = json!({"messaging_product": "whatsapp", "to": CUSTOMER, "text": {"body": "x"}});
    expect_cloud_error(&cloud.post(text.clone()), 400, 133010);
    let held = stack.wanet.consumer_says(CUSTOMER, "Anyone there?");

    expect_cloud_error(&register("000000"), 400, 133005);
    expect_cloud_error(&cloud.post(text), 400, 133010);
    let registered = register("135790");
    assert_eq!(
        (registered.status, &registered.body),
        (200, &json!({"success": true}))
    );
    stack.wait_for_gateway("connected");
    receiver.wait_until(WAIT, "the message written while deregistered", |b| {
        e2e::webhooks::inbound_ids(b).contains(&held)
    });
    endpoint.wait_until("the message written while deregistered", |v| {
        e2e::webhooks::inbound_ids(v).contains(&held)
    });
    let back = cloud.send(
        CUSTOMER,
        json!({"type": "text", "text": {"body": "Back again"}}),
    );
    receiver.wait_until(WAIT, "the text after registering again", |b| {
        has_status(b, &back, "delivered")
    });
}

/// The On-Prem endpoint's bodies were never signed; once asked, they are, with the same secret.
/// After unsubscribing, the Cloud endpoint gets nothing more.
fn on_prem_signature_and_unsubscribing(
    stack: &Messaging,
    receiver: &Receiver,
    endpoint: &CloudEndpoint,
    cloud: &Cloud,
) {
    let api = stack.api();
    assert!(receiver.attempts().iter().all(|a| a.signature.is_none()));
    let sign = json!({"sign_onprem_webhooks": true});
    let r = api.call(
        "PATCH",
        "/v1/settings/cloud",
        Some(&stack.admin),
        Some(sign),
    );
    r.expect_status(200);
    assert_eq!(r.body["settings"]["cloud"]["sign_onprem_webhooks"], true);
    let bad = json!({"sign_onprem_webhooks": "yes"});
    let r = api.call("PATCH", "/v1/settings/cloud", Some(&stack.admin), Some(bad));
    r.expect_status(400);

    let apps = format!("/v21.0/{}/subscribed_apps", ids::waba_id(BUSINESS_WA_ID));
    let r = api.call("DELETE", &apps, Some(&stack.admin), None);
    assert_eq!((r.status, &r.body), (200, &json!({"success": true})));
    let settings = api.call("GET", "/v1/settings/cloud", Some(&stack.admin), None);
    let shown = &settings.body["settings"]["cloud"];
    assert_eq!(
        (&shown["callback_url"], &shown["verify_token"]),
        (&Value::Null, &Value::Null)
    );
    let last = cloud.send(CUSTOMER, json!({"type": "text", "text": {"body": "Bye"}}));
    receiver.wait_until(WAIT, "the last text delivered", |b| {
        has_status(b, &last, "delivered")
    });
    let attempts = receiver.attempts();
    assert!(
        attempts
            .iter()
            .all(|a| !a.body.to_string().contains("message_template_id")),
        "a template status change is no On-Prem webhook"
    );
    let signed = attempts
        .iter()
        .find(|a| has_status(std::slice::from_ref(&a.body), &last, "delivered"))
        .unwrap();
    let signature = signed.signature.as_deref().unwrap_or_default();
    assert!(
        signature_matches(endpoint.app_secret.as_bytes(), &signed.raw, signature),
        "the On-Prem webhook is signed with the app secret: {signature:?}"
    );
    let after = endpoint.values();
    assert!(
        !has_status(&after, &last, "sent") && !has_status(&after, &last, "delivered"),
        "nothing of what happened after unsubscribing reaches the Cloud endpoint"
    );
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
