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

use actix_web::{web, HttpResponse};
use wa_api::rpc::{paths, Access, Endpoint, Exposure, Route};
use wa_api::ApiError;

/// Every public path: the webapp's own endpoints here, then every endpoint the coreapp answers,
/// registered from the shared route table (`wa_api::rpc::ROUTES`).
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
        .service(resource("/metrics").route(web::get().to(monitoring::metrics)))
        .service(
            resource("/v1/settings/profile/photo")
                .route(web::get().to(profile::get_photo))
                .route(web::post().to(profile::set_photo))
                .route(web::delete().to(profile::delete_photo)),
        )
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
            resource("/v1/media/{id}")
                .route(web::get().to(media::download))
                .route(web::delete().to(media::delete)),
        )
        .configure(coreapp_endpoints)
        .configure(console::configure);
}

/// The coreapp's public endpoints, each path once with all its methods: relayed as they are, or
/// through the webapp handler that prepares the call.
fn coreapp_endpoints(cfg: &mut web::ServiceConfig) {
    for (path, routes) in paths() {
        let public: Vec<&Route> = routes
            .into_iter()
            .filter(|route| route.exposure != Exposure::Internal)
            .collect();
        if public.is_empty() {
            continue;
        }
        let mut resource = resource(path);
        for route in public {
            let method = route.method.to_actix();
            resource = resource.route(handler(route).method(method));
        }
        cfg.service(resource);
    }
}

/// The webapp's handler of a coreapp endpoint.
fn handler(route: &Route) -> actix_web::Route {
    let handler = web::route();
    match route.exposure {
        Exposure::Relayed { access, json_body } => match (access, json_body) {
            (Access::Admin, true) => handler.to(relayed::admin_with_body),
            (Access::Admin, false) => handler.to(relayed::admin_without_body),
            (Access::User, true) => handler.to(relayed::user_with_body),
            (Access::User, false) => handler.to(relayed::user_without_body),
        },
        Exposure::WebappHandler | Exposure::Internal => match route.endpoint {
            Endpoint::Restore => handler.to(profile::restore),
            Endpoint::StatsApp => handler.to(monitoring::stats_app),
            Endpoint::StatsDb => handler.to(monitoring::stats_db),
            Endpoint::Support => handler.to(monitoring::support),
            // Internal endpoints are filtered out above; any other is a table error the
            // route-table test reports.
            _ => handler.to(unknown_path),
        },
    }
}

/// A resource whose other methods answer 405 in the API's JSON error shape.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(method_not_allowed())
}

fn method_not_allowed() -> actix_web::Route {
    web::to(|| async { Err::<HttpResponse, _>(ApiError::method_not_allowed()) })
}

/// Anything not in the table: 404/1006 `URL path not found`.
pub async fn unknown_path() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found_path())
}
