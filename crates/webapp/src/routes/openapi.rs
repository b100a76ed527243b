//! `GET /v1/openapi.json`: the OpenAPI 3.1 description of the API, `docs/openapi.json` built into
//! the binary. Served without a token, like the document in the repository: it describes the
//! API, holds no data of the installation, and a client generator must be able to fetch it before
//! it has credentials. `tests/openapi.rs` holds the document to [`super::public_routes`].

use actix_web::http::header::ContentType;
use actix_web::HttpResponse;

/// The document as shipped in `docs/`.
pub const DOCUMENT: &str = include_str!("../../../../docs/openapi.json");

pub async fn get() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .body(DOCUMENT)
}
