//! The route table: every path the webapp answers, in one place.

mod certificates;
mod console;
pub mod forward;
mod health;
mod media;
pub mod monitoring;
mod profile;
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
            resource("/v1/stickerpacks")
                .route(web::get().to(relayed::user_without_body))
                .route(web::post().to(relayed::user_with_body)),
        )
        .service(
            resource("/v1/stickerpacks/{pack}")
                .route(web::get().to(relayed::user_without_body))
                .route(web::patch().to(relayed::user_with_body))
                .route(web::delete().to(relayed::user_without_body)),
        )
        .service(
            resource("/v1/stickerpacks/{pack}/stickers")
                .route(web::get().to(relayed::user_without_body))
                .route(web::post().to(relayed::user_with_body)),
        )
        .service(
            resource("/v1/stickerpacks/{pack}/stickers/{index}")
                .route(web::get().to(relayed::user_without_body))
                .route(web::patch().to(relayed::user_with_body))
                // The collection sends an empty raw body; it is ignored (spec §6.5).
                .route(web::delete().to(relayed::user_without_body)),
        )
        .service(resource("/v1/templates").route(web::get().to(relayed::user_without_body)))
        .service(
            resource("/v1/settings/profile/about")
                .route(web::get().to(relayed::admin_without_body))
                .route(web::patch().to(relayed::admin_with_body)),
        )
        .service(
            resource("/v1/settings/profile/photo")
                .route(web::get().to(profile::get_photo))
                .route(web::post().to(profile::set_photo))
                .route(web::delete().to(profile::delete_photo)),
        )
        .service(
            resource("/v1/settings/business/profile")
                .route(web::get().to(relayed::admin_without_body))
                .route(web::post().to(relayed::admin_with_body)),
        )
        .service(
            resource("/v1/settings/business/compliance_info")
                .route(web::get().to(relayed::admin_without_body))
                .route(web::post().to(relayed::admin_with_body)),
        )
        .service(
            resource("/v1/settings/account/two-step")
                .route(web::post().to(relayed::admin_with_body))
                .route(web::delete().to(relayed::admin_without_body)),
        )
        .service(resource("/v1/settings/backup").route(web::post().to(relayed::admin_with_body)))
        .service(resource("/v1/settings/restore").route(web::post().to(profile::restore)))
        .service(
            resource("/v1/certificates/external").route(web::post().to(certificates::set_external)),
        )
        .service(
            resource("/v1/certificates/external/ca")
                .route(web::get().to(certificates::external_ca)),
        )
        .service(
            resource("/v1/certificates/webhooks/ca")
                .route(web::get().to(certificates::get_webhook_ca))
                .route(web::post().to(certificates::set_webhook_ca))
                .route(web::delete().to(certificates::delete_webhook_ca)),
        )
        .service(resource("/v1/support").route(web::get().to(monitoring::support)))
        .service(resource("/v1/media").route(web::post().to(media::upload)))
        .service(
            resource("/v1/settings/application/media/providers")
                .route(web::get().to(media::providers))
                .route(web::post().to(media::add_provider)),
        )
        .service(
            resource("/v1/settings/application/media/providers/{name}")
                .route(web::delete().to(media::delete_provider)),
        )
        .service(
            resource("/v1/services/message/gc").route(web::put().to(relayed::admin_without_body)),
        )
        .service(
            resource("/v1/services/media/gc").route(web::put().to(relayed::admin_without_body)),
        )
        .service(
            resource("/v1/contacts/{wa_id}/identity")
                .route(web::get().to(relayed::user_without_body))
                .route(web::put().to(relayed::user_with_body)),
        )
        .service(
            resource("/v1/media/{id}")
                .route(web::get().to(media::download))
                .route(web::delete().to(media::delete)),
        )
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
