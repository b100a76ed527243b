//! The route table: every path the webapp answers, in one place.

mod certificates;
pub mod cloud;
mod console;
pub mod forward;
mod health;
mod inspector;
pub(crate) mod media;
pub mod monitoring;
pub mod openapi;
mod phones;
mod profile;
mod relayed;
mod users;

use actix_web::{web, HttpResponse};
use wa_api::rpc::{paths, Access, Endpoint, Exposure, Method, Route, ROUTES};
use wa_api::ApiError;

/// One route the webapp answers with a handler of its own (the coreapp's are in
/// `wa_api::rpc::ROUTES`). A table rather than calls, so that the OpenAPI document can be held to
/// the paths actually served ([`public_routes`]).
pub struct OwnRoute {
    pub method: Method,
    pub path: &'static str,
    handler: fn() -> actix_web::Route,
}

const fn own(method: Method, path: &'static str, handler: fn() -> actix_web::Route) -> OwnRoute {
    OwnRoute {
        method,
        path,
        handler,
    }
}

/// The webapp's own routes, in registration order.
pub const OWN_ROUTES: &[OwnRoute] = &[
    own(Method::Post, "/v1/users/login", || {
        web::route().to(users::login)
    }),
    own(Method::Post, "/v1/users/logout", || {
        web::route().to(users::logout)
    }),
    own(Method::Post, "/v1/users", || web::route().to(users::create)),
    own(Method::Get, "/v1/users/{username}", || {
        web::route().to(users::get)
    }),
    own(Method::Put, "/v1/users/{username}", || {
        web::route().to(users::update)
    }),
    own(Method::Delete, "/v1/users/{username}", || {
        web::route().to(users::delete)
    }),
    own(Method::Get, "/v1/health", || web::route().to(health::get)),
    own(Method::Get, "/v1/openapi.json", || {
        web::route().to(openapi::get)
    }),
    own(Method::Get, "/metrics", || {
        web::route().to(monitoring::metrics)
    }),
    own(Method::Get, "/v1/settings/profile/photo", || {
        web::route().to(profile::get_photo)
    }),
    own(Method::Post, "/v1/settings/profile/photo", || {
        web::route().to(profile::set_photo)
    }),
    own(Method::Delete, "/v1/settings/profile/photo", || {
        web::route().to(profile::delete_photo)
    }),
    own(Method::Post, "/v1/certificates/external", || {
        web::route().to(certificates::set_external)
    }),
    own(Method::Get, "/v1/certificates/external/ca", || {
        web::route().to(certificates::external_ca)
    }),
    own(Method::Get, "/v1/certificates/webhooks/ca", || {
        web::route().to(certificates::get_webhook_ca)
    }),
    own(Method::Post, "/v1/certificates/webhooks/ca", || {
        web::route().to(certificates::set_webhook_ca)
    }),
    own(Method::Delete, "/v1/certificates/webhooks/ca", || {
        web::route().to(certificates::delete_webhook_ca)
    }),
    own(Method::Post, "/v1/media", || web::route().to(media::upload)),
    own(
        Method::Get,
        "/v1/settings/application/media/providers",
        || web::route().to(media::providers),
    ),
    own(
        Method::Post,
        "/v1/settings/application/media/providers",
        || web::route().to(media::add_provider),
    ),
    own(
        Method::Delete,
        "/v1/settings/application/media/providers/{name}",
        || web::route().to(media::delete_provider),
    ),
    own(Method::Get, "/v1/media/{id}", || {
        web::route().to(media::download)
    }),
    own(Method::Delete, "/v1/media/{id}", || {
        web::route().to(media::delete)
    }),
    own(Method::Get, "/v1/settings/cloud", || {
        web::route().to(cloud::settings::get)
    }),
    own(Method::Patch, "/v1/settings/cloud", || {
        web::route().to(cloud::settings::patch)
    }),
    own(Method::Get, "/v1/settings/cloud/tokens", || {
        web::route().to(cloud::system_tokens::list)
    }),
    own(Method::Post, "/v1/settings/cloud/tokens", || {
        web::route().to(cloud::system_tokens::create)
    }),
    own(Method::Delete, "/v1/settings/cloud/tokens/{id}", || {
        web::route().to(cloud::system_tokens::delete)
    }),
    own(Method::Get, "/console/webhooks", || {
        web::route().to(inspector::webhooks)
    }),
    own(Method::Get, "/console/consumers", || {
        web::route().to(phones::list)
    }),
    own(Method::Post, "/console/consumers", || {
        web::route().to(phones::upsert)
    }),
    own(Method::Get, "/console/consumers/{wa_id}", || {
        web::route().to(phones::show)
    }),
    own(Method::Post, "/console/consumers/{wa_id}/messages", || {
        web::route().to(phones::send)
    }),
    own(Method::Get, "/console/media/{id}", || {
        web::route().to(phones::media)
    }),
];

/// Every API route the webapp serves, its own and the coreapp's, as (method, path template):
/// what the OpenAPI document must describe. The console's files are left out.
pub fn public_routes() -> Vec<(Method, &'static str)> {
    let own = OWN_ROUTES.iter().map(|route| (route.method, route.path));
    let relayed = ROUTES
        .iter()
        .filter(|route| route.exposure != Exposure::Internal)
        .map(|route| (route.method, route.path));
    own.chain(relayed)
        .filter(|(_, path)| !path.starts_with("/console"))
        .collect()
}

/// Every public path: the webapp's own endpoints here, then every endpoint the coreapp answers,
/// registered from the shared route table (`wa_api::rpc::ROUTES`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&str> = Vec::new();
    for route in OWN_ROUTES {
        if !paths.contains(&route.path) {
            paths.push(route.path);
        }
    }
    for path in paths {
        let mut resource = resource(path);
        for route in OWN_ROUTES.iter().filter(|route| route.path == path) {
            resource = resource.route((route.handler)().method(route.method.to_actix()));
        }
        cfg.service(resource);
    }
    cfg.configure(coreapp_endpoints)
        .configure(cloud::configure)
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
            Endpoint::StatsAppInternal => handler.to(monitoring::stats_app_internal),
            Endpoint::StatsDbInternal => handler.to(monitoring::stats_db_internal),
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
