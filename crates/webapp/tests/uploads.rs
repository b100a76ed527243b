//! Uploads that are not JSON (profile photo, media, certificates) in process: their bodies are
//! the file itself whatever the JSON parsing of other routes does, and a profile photo must be a
//! real JPEG or PNG image. No storage rule is involved beyond what the users tests cover, so one
//! backend suffices.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use wa_store::Backend;

const PHOTO: &str = "/v1/settings/profile/photo";

/// A PNG's signature and header chunk, with some image data after it.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut file = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    file.extend_from_slice(&width.to_be_bytes());
    file.extend_from_slice(&height.to_be_bytes());
    file.extend_from_slice(&[8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xDE]);
    file.extend_from_slice(&[0x55; 64]);
    file
}

async fn post(
    app: &TestApp,
    admin: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> common::Reply {
    let request = app
        .request("POST", path)
        .insert_header(("Authorization", admin))
        .insert_header(("Content-Type", content_type))
        .set_payload(body);
    app.send(request).await
}

#[actix_web::test]
async fn profile_photos_must_be_jpeg_or_png_images() {
    let app = TestApp::on(Backend::Sqlite).await;
    let admin = app.first_login().await;
    let gif = b"GIF89a\x80\x02\x80\x02\0\0\0".to_vec();
    let jpeg_start_only = b"\xFF\xD8\xFF\xE0 not a jpeg".to_vec();
    let json = br#"{"photo": "abc"}"#.to_vec();
    for (content_type, bytes) in [
        ("image/jpeg", gif),
        ("image/jpeg", jpeg_start_only),
        ("image/png", png(0, 640)),
        ("image/png", json.clone()),
        ("application/json", json),
    ] {
        let reply = post(&app, &admin, PHOTO, content_type, bytes).await;
        reply.expect_error(400, 1009);
        assert_eq!(reply.details(), "The photo must be a JPEG or PNG image");
    }
    post(&app, &admin, PHOTO, "image/png", Vec::new())
        .await
        .expect_error(400, 1008);
    // A real PNG passes the webapp's checks, whatever type it claims, and goes on to the coreapp
    // (down in these tests: 1014).
    for content_type in ["image/png", "image/jpeg", "application/octet-stream"] {
        let reply = post(&app, &admin, PHOTO, content_type, png(640, 640)).await;
        reply.expect_error(500, 1014);
    }
}

/// A media upload is the file itself: bytes that happen to be JSON are stored as they are under
/// the declared type, and come back unchanged.
#[actix_web::test]
async fn media_and_certificate_bodies_are_not_read_as_json() {
    let media_dir = tempfile::tempdir().unwrap();
    let dir = media_dir.path().to_path_buf();
    let app = TestApp::with(Backend::Sqlite, move |s| s.media_dir = dir).await;
    let admin = app.first_login().await;
    let document = br#"{"to": "not a parameter", "type": "text"}"#.to_vec();
    for (content_type, bytes) in [("text/plain", document), ("image/png", png(64, 64))] {
        let reply = post(&app, &admin, "/v1/media", content_type, bytes.clone()).await;
        reply.expect_status(201);
        let id = reply.body["media"][0]["id"].as_str().unwrap();
        let request = app
            .request("GET", &format!("/v1/media/{id}"))
            .insert_header(("Authorization", admin.as_str()));
        let (reply, body) = app.send_raw(request).await;
        reply.expect_status(200);
        assert_eq!(reply.headers.get("content-type").unwrap(), content_type);
        assert_eq!(body, bytes);
    }

    // A certificate upload is PEM text: a JSON body is a bad certificate, not bad JSON.
    let reply = post(
        &app,
        &admin,
        "/v1/certificates/external",
        "text/plain",
        br#"{"cert": "x"}"#.to_vec(),
    )
    .await;
    reply.expect_error(400, 1009);
}
