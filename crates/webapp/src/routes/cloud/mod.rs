//! The Cloud API's request surface (issue 20) on the same core: Graph-style paths under a
//! version prefix (`/v21.0/...`, any `vN.N` accepted; `/v1/...` never matches it), answered in
//! the Cloud shapes and the Cloud error envelope. Handlers check the caller and the ids, then
//! translate to the On-Prem calls the coreapp answers (`wa_api::cloud`).
//!
//! These routes are not in `OWN_ROUTES`: the OpenAPI document describes the On-Prem API, whose
//! error envelope every operation there falls back to (docs/compatibility.md, "Cloud API").

mod caller;
mod media;
mod messages;
mod objects;
mod phone_numbers;
mod profile;
mod registration;
pub(crate) mod settings;
mod subscribed_apps;
pub(crate) mod system_tokens;
mod templates;

use actix_web::{web, HttpRequest, HttpResponse};
use wa_api::cloud::CloudError;
use wa_api::rpc::Method;

use wa_api::cloud::{MESSAGES_PATH, VERSION_SEGMENT as VERSION};

/// One Cloud route: method, path after the version, handler.
pub struct CloudRoute {
    pub method: Method,
    pub path: &'static str,
    handler: fn() -> actix_web::Route,
}

const fn cloud(
    method: Method,
    path: &'static str,
    handler: fn() -> actix_web::Route,
) -> CloudRoute {
    CloudRoute {
        method,
        path,
        handler,
    }
}

/// The Cloud routes, in registration order (more specific paths first).
pub const CLOUD_ROUTES: &[CloudRoute] = &[
    cloud(Method::Post, MESSAGES_PATH, || {
        web::route().to(messages::post)
    }),
    cloud(Method::Post, "/{object_id}/media", || {
        web::route().to(media::upload)
    }),
    cloud(Method::Get, "/{object_id}/phone_numbers", || {
        web::route().to(phone_numbers::list)
    }),
    cloud(Method::Get, "/{object_id}/message_templates", || {
        web::route().to(templates::list)
    }),
    cloud(Method::Post, "/{object_id}/message_templates", || {
        web::route().to(templates::create)
    }),
    cloud(Method::Delete, "/{object_id}/message_templates", || {
        web::route().to(templates::delete)
    }),
    cloud(
        Method::Get,
        "/{object_id}/whatsapp_business_profile",
        || web::route().to(profile::get),
    ),
    cloud(
        Method::Post,
        "/{object_id}/whatsapp_business_profile",
        || web::route().to(profile::post),
    ),
    cloud(Method::Post, "/{object_id}/register", || {
        web::route().to(registration::register)
    }),
    cloud(Method::Post, "/{object_id}/deregister", || {
        web::route().to(registration::deregister)
    }),
    cloud(Method::Get, "/{object_id}/subscribed_apps", || {
        web::route().to(subscribed_apps::list)
    }),
    cloud(Method::Post, "/{object_id}/subscribed_apps", || {
        web::route().to(subscribed_apps::subscribe)
    }),
    cloud(Method::Delete, "/{object_id}/subscribed_apps", || {
        web::route().to(subscribed_apps::unsubscribe)
    }),
    cloud(Method::Get, "/{object_id}", || {
        web::route().to(objects::get)
    }),
    cloud(Method::Delete, "/{object_id}", || {
        web::route().to(objects::delete)
    }),
];

/// Registers every Cloud path once with all its methods; other methods, and any other path
/// under a version prefix, answer Graph's "unsupported request" (100/33).
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&str> = Vec::new();
    for route in CLOUD_ROUTES {
        if !paths.contains(&route.path) {
            paths.push(route.path);
        }
    }
    for path in paths {
        let mut resource = web::resource(format!("/{VERSION}{path}"))
            .default_service(web::to(unsupported_request));
        for route in CLOUD_ROUTES.iter().filter(|route| route.path == path) {
            resource = resource.route((route.handler)().method(route.method.to_actix()));
        }
        cfg.service(resource);
    }
    cfg.service(
        web::resource(format!("/{VERSION}/{{rest:.*}}"))
            .default_service(web::to(unsupported_request)),
    );
}

/// Graph's answer to a path or method it does not serve: 100/33 naming the first segment.
async fn unsupported_request(req: HttpRequest) -> Result<HttpResponse, CloudError> {
    let object = req
        .path()
        .trim_start_matches('/')
        .split('/')
        .nth(1)
        .unwrap_or_default();
    Err(CloudError::unknown_object(
        object,
        &req.method().as_str().to_ascii_lowercase(),
    ))
}
