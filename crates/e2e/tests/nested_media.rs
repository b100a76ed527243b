//! Media inside other messages (issue 4): the image header of an interactive `button` message and
//! the document header parameter of a template reach the phone as bytes, by uploaded id and by
//! link from a local file server; an unknown id inside a header is refused like a top-level one.
//! On every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::files::{serve_files, sha256_hex, ServedFile};
use e2e::stack::{messaging_with_media, Messaging};
use serde_json::{json, Value};
use std::time::Duration;
use wa_store::Backend;

const WAIT: Duration = Duration::from_secs(60);
const CONSUMER: &str = "16315550144";

fn send(stack: &Messaging, body: Value) -> e2e::Reply {
    stack
        .api()
        .call("POST", "/v1/messages", Some(&stack.admin), Some(body))
}

/// The message the phone received under `id` (waits for it).
fn received(stack: &Messaging, id: &str) -> Value {
    let found = stack.wanet.wait_for_received(CONSUMER, WAIT, |received| {
        received.iter().find(|m| m["id"] == id).cloned()
    });
    found["message"].clone()
}

/// The sha256 of the bytes the network holds under `media`'s id (what the phone would fetch).
fn phone_bytes_digest(stack: &Messaging, media: &Value) -> String {
    let id = media["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {media}"));
    let url = format!(
        "http://127.0.0.1:{}/control/media/{id}/bytes",
        stack.wanet.control_port
    );
    let response = reqwest::blocking::get(url).unwrap();
    assert_eq!(response.status().as_u16(), 200);
    sha256_hex(&response.bytes().unwrap())
}

fn header_media_reaches_the_phone(backend: Backend) {
    let media_dir = tempfile::tempdir().unwrap();
    let (_db, receiver, stack) = messaging_with_media(backend, media_dir.path(), &[]);
    stack.register();
    stack.wanet.consumer_says(CONSUMER, "hello");

    // An interactive button message with an image header by uploaded id.
    let jpeg: Vec<u8> = (0..120_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let image_id = stack.upload_media("image/jpeg", &jpeg);
    let buttons = json!([{"type": "reply", "reply": {"id": "yes", "title": "Yes"}}]);
    let interactive = |image: Value| {
        json!({"to": CONSUMER, "type": "interactive", "interactive": {"type": "button",
            "header": {"type": "image", "image": image}, "body": {"text": "Like it?"},
            "action": {"buttons": buttons}}})
    };
    let r = send(&stack, interactive(json!({ "id": image_id })));
    r.expect_status(201);
    let message = received(&stack, r.body["messages"][0]["id"].as_str().unwrap());
    let image = &message["interactive"]["header"]["image"];
    assert_eq!(image["mime_type"], "image/jpeg", "{message}");
    assert_eq!(image["sha256"], sha256_hex(&jpeg));
    assert_eq!(phone_bytes_digest(&stack, image), sha256_hex(&jpeg));

    // A template with a document header parameter by link, served by a local file server.
    let pdf: Vec<u8> = (0..250_000u32).map(|i| (i * 7 % 241) as u8).collect();
    let base = serve_files(
        vec![ServedFile::new(
            "/inv-7.pdf",
            "application/pdf",
            pdf.clone(),
        )],
        None,
    );
    let link = format!("{base}/inv-7.pdf");
    let template = json!({"to": CONSUMER, "type": "template", "template": {
        "namespace": stack.template_namespace(), "name": "invoice_ready",
        "language": {"policy": "deterministic", "code": "en"},
        "components": [
            {"type": "header", "parameters": [{"type": "document",
                "document": {"link": link, "filename": "inv-7.pdf"}}]},
            {"type": "body", "parameters": [{"type": "text", "text": "7"}]}]}});
    let r = send(&stack, template);
    r.expect_status(201);
    let id = r.body["messages"][0]["id"].as_str().unwrap().to_string();
    let message = received(&stack, &id);
    let document = &message["template"]["components"][0]["parameters"][0]["document"];
    assert_eq!(document["filename"], "inv-7.pdf", "{message}");
    assert_eq!(document["mime_type"], "application/pdf");
    assert_eq!(phone_bytes_digest(&stack, document), sha256_hex(&pdf));
    assert_eq!(message["rendered"], "Your invoice 7 is ready.");
    receiver.wait_until(WAIT, "the template delivered", |bodies| {
        bodies
            .iter()
            .filter_map(|b| b["statuses"].as_array())
            .flatten()
            .any(|s| s["id"] == id.as_str() && s["status"] == "delivered")
    });

    // Unknown ids inside a header are refused as at the top level.
    send(
        &stack,
        interactive(json!({ "id": "f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68" })),
    )
    .expect_error(404, 1006);
}

#[test]
fn header_media_on_sqlite() {
    header_media_reaches_the_phone(Backend::Sqlite);
}

#[test]
fn header_media_on_mysql() {
    header_media_reaches_the_phone(Backend::Mysql);
}

#[test]
fn header_media_on_postgres() {
    header_media_reaches_the_phone(Backend::Postgres);
}
