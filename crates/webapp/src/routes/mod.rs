//! The route table: every path the webapp answers, in one place.

mod console;
pub mod forward;
mod health;
pub mod monitoring;
mod relayed;
mod users;

use actix_web::{web, HttpResponse, Route};
use wa_api::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/v1/users/login").route(web::post().to(users::login)))
        .service(resource("/v1/users/logout").route(web::post().to(users::logout)))
        .service(resource("/v1/users").route(web::post().to(users::create)))
        .service(
            resource("/v1/users/{username}")
                .route(web::get().to(users::get))
                .route(web::put().to(users::update))
                .route(web::delete().to(users::delete)),
        )
        .service(resource("/v1/health").route(web::get().to(health::get)))
        .service(resource("/v1/stats/app").route(web::get().to(monitoring::stats_app)))
        .service(resource("/v1/stats/db").route(web::get().to(monitoring::stats_db)))
        .service(resource("/metrics").route(web::get().to(monitoring::metrics)))
        .service(resource("/v1/account").route(web::post().to(relayed::admin_with_body)))
        .service(resource("/v1/account/verify").route(web::post().to(relayed::admin_with_body)))
        .service(
            resource("/v1/settings/application")
                .route(web::get().to(relayed::admin_without_body))
                .route(web::patch().to(relayed::admin_with_body))
                .route(web::delete().to(relayed::admin_without_body)),
        )
        .service(resource("/v1/contacts").route(web::post().to(relayed::user_with_body)))
        .service(resource("/v1/messages").route(web::post().to(relayed::user_with_body)))
        .service(
            resource("/v1/messages/{id}")
                .route(web::put().to(relayed::user_with_body))
                .route(web::get().to(relayed::user_without_body)),
        )
        .service(
            resource("/v1/settings/application/webhooks/test")
                .route(web::post().to(relayed::admin_without_body)),
        )
        .configure(console::configure);
}

/// A resource whose other methods answer 405 in the API's JSON error shape.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(method_not_allowed())
}

fn method_not_allowed() -> Route {
    web::to(|| async { Err::<HttpResponse, _>(ApiError::method_not_allowed()) })
}

/// Anything not in the table: 404/1006 `URL path not found`.
pub async fn unknown_path() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found_path())
}
