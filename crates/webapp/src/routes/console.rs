//! The admin console at `/console`: static HTML, CSS and JavaScript built into the binary. The
//! page talks only to the public `/v1` API with the bearer token it obtains, like any integration,
//! so this module does nothing but hand out the files.

use actix_web::http::header::{self, ContentType};
use actix_web::{web, HttpResponse};
use wa_api::ApiError;

/// The console's files: (name under `/console/`, content type, bytes).
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "core.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/core.js"),
    ),
    (
        "pages.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/pages.js"),
    ),
    (
        "phones.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/phones.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../console/app.css"),
    ),
];
const INDEX_HTML: &str = include_str!("../../console/index.html");

/// Scripts and styles from this origin only; images may also be the profile photo's link.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: blob: https:; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console", web::get().to(index))
        .route("/console/{file}", web::get().to(asset));
}

async fn index() -> HttpResponse {
    with_headers(HttpResponse::Ok(), ContentType::html().to_string()).body(INDEX_HTML)
}

async fn asset(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (_, content_type, body) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == file.as_str())
        .ok_or_else(ApiError::not_found_path)?;
    Ok(with_headers(HttpResponse::Ok(), (*content_type).to_string()).body(*body))
}

fn with_headers(
    mut builder: actix_web::HttpResponseBuilder,
    content_type: String,
) -> actix_web::HttpResponseBuilder {
    builder
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    builder
}
