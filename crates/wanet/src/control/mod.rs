//! The control API: plain HTTP/JSON through which tests and demos play the consumers' side and
//! read what the network saw. Paths and shapes are relied on by other crates' tests: keep them.

mod actions;
mod config;
mod latency;
mod scenario;
mod traffic;
mod webhook_inbox;

pub use scenario::at_registration as apply_waiting_scenario_entries;
pub use scenario::Scenario;

use crate::base::errors::ControlError;
use crate::base::phone;
use crate::model::catalogs::CatalogInput;
use crate::model::directory::ConsumerView;
use crate::model::templates::TemplateInput;
use crate::network::messaging::MAX_BURST;
use crate::network::Network;
use actions::{valid_wa_id, NewConsumer, PrefixRule};
use actix_web::dev::Server;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::net::SocketAddr;
use std::sync::Arc;

struct ControlState {
    network: Arc<Network>,
    ca_pem: String,
}

type State = web::Data<ControlState>;
type Reply = Result<HttpResponse, ControlError>;

/// Binds the control API; the returned server runs once polled (spawned).
pub fn bind(
    listen: &str,
    network: Arc<Network>,
    ca_pem: String,
) -> std::io::Result<(Server, SocketAddr)> {
    let network_data = web::Data::new(network.clone());
    let state = web::Data::new(ControlState { network, ca_pem });
    let inbox = web::Data::new(webhook_inbox::WebhookInbox::default());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(inbox.clone())
            .app_data(network_data.clone())
            .app_data(json_config())
            .configure(routes)
            .configure(config::routes)
            .configure(latency::routes)
            .configure(webhook_inbox::routes)
            .configure(crate::network::terms::routes)
            .wrap(actix_web::middleware::from_fn(config::durable))
    })
    .workers(1)
    // The embedding process (the bin or the launcher) decides what a signal stops.
    .disable_signals()
    .bind(listen)?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| std::io::Error::other(format!("{listen} resolved to no address")))?;
    Ok((server.run(), addr))
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/control/health", web::get().to(health))
        .route("/control/ca", web::get().to(ca))
        .route("/control/certs", web::post().to(mint_cert))
        .route("/control/codes/{phone}", web::get().to(code))
        .route("/control/consumers", web::post().to(upsert_consumer))
        .route("/control/consumers", web::get().to(consumers))
        .route("/control/consumers/{wa_id}", web::get().to(consumer))
        .route(
            "/control/consumers/{wa_id}/messages",
            web::post().to(consumer_message),
        )
        .route(
            "/control/consumers/{wa_id}/burst",
            web::post().to(consumer_burst),
        )
        .route("/control/businesses/{wa_id}", web::get().to(business))
        .route("/control/businesses/{wa_id}/limits", web::get().to(limits))
        .route("/control/businesses/{wa_id}/shards", web::get().to(shards))
        .route(
            "/control/businesses/{wa_id}/limits",
            web::post().to(set_limits),
        )
        .route("/control/profiles", web::get().to(prefix_rules))
        .route("/control/profiles", web::post().to(set_prefix_rule))
        .route(
            "/control/profiles/{prefix}",
            web::delete().to(delete_prefix_rule),
        )
        .route("/control/outage", web::post().to(start_outage))
        .route("/control/outage", web::get().to(outage))
        .route("/control/traffic", web::post().to(traffic))
        .route("/control/scenarios", web::post().to(load_scenario))
        .route("/control/scenarios/waiting", web::get().to(waiting_entries))
        .route("/control/templates", web::get().to(list_templates))
        .route("/control/templates", web::post().to(add_template))
        .route(
            "/control/templates/{namespace}/{name}/{language}",
            web::patch().to(update_template),
        )
        .route(
            "/control/templates/{namespace}/{name}/{language}",
            web::delete().to(delete_template),
        )
        .route("/control/catalogs", web::get().to(list_catalogs))
        .route("/control/catalogs/{catalog_id}", web::get().to(catalog))
        .route("/control/catalogs/{catalog_id}", web::put().to(put_catalog))
        .route(
            "/control/catalogs/{catalog_id}",
            web::delete().to(delete_catalog),
        )
        .route(
            "/control/businesses/{wa_id}/profile",
            web::get().to(business_profile),
        )
        .service(
            web::resource("/control/media")
                // A consumer's attachment may be as big as a document (100 MB).
                .app_data(web::PayloadConfig::new(128 * 1024 * 1024))
                .route(web::post().to(upload_media)),
        )
        .route("/control/media/{id}", web::get().to(media_info))
        .route("/control/media/{id}/bytes", web::get().to(media_bytes))
        .route(
            "/control/consumers/{wa_id}/identity",
            web::post().to(change_identity),
        );
}

/// Malformed JSON bodies get the same `{"error": ...}` shape as every other failure.
fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .error_handler(|err, _req| ControlError::BadRequest(err.to_string()).into())
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn ca(state: State) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(state.ca_pem.clone())
}

#[derive(Deserialize)]
struct CertRequest {
    vname: String,
}

async fn mint_cert(state: State, body: web::Json<CertRequest>) -> Reply {
    let vname = body.vname.trim();
    if vname.is_empty() {
        return Err(ControlError::BadRequest("vname must not be empty".into()));
    }
    let cert = state.network.certs.mint(vname);
    Ok(HttpResponse::Created().json(json!({ "cert": cert })))
}

async fn code(state: State, path: web::Path<String>) -> Reply {
    let phone = phone::wa_id(&path).unwrap_or_else(|| path.into_inner());
    state
        .network
        .code_for(&phone)
        .map(|request| HttpResponse::Ok().json(request))
        .ok_or_else(|| ControlError::NotFound("no code requested".into()))
}

async fn upsert_consumer(state: State, body: web::Json<NewConsumer>) -> Reply {
    let view = actions::upsert_consumer(&state.network, body.into_inner())?;
    Ok(HttpResponse::Created().json(view))
}

/// The consumers the network keeps, newest activity first (the console's list of phones).
async fn consumers(state: State) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "consumers": state.network.consumer_list() }))
}

async fn consumer(state: State, path: web::Path<String>) -> Reply {
    let wa_id = valid_wa_id(&path)?;
    let view: ConsumerView = state.network.consumer_view(&wa_id);
    Ok(HttpResponse::Ok().json(view))
}

/// The body is the inbound message itself (`type` plus its object), with an optional `to` and
/// an optional `referral` (a click-to-WhatsApp ad; its `image`/`video` given like media files).
async fn consumer_message(
    state: State,
    path: web::Path<String>,
    body: web::Json<Map<String, Value>>,
) -> Reply {
    let id = actions::consumer_message(&state.network, &path, body.into_inner())?;
    Ok(HttpResponse::Created().json(json!({ "id": id })))
}

#[derive(Deserialize)]
struct Burst {
    count: usize,
    to: Option<String>,
    body_prefix: Option<String>,
}

async fn consumer_burst(state: State, path: web::Path<String>, body: web::Json<Burst>) -> Reply {
    let body = body.into_inner();
    if !(1..=MAX_BURST).contains(&body.count) {
        return Err(ControlError::BadRequest(format!(
            "count must be between 1 and {MAX_BURST}"
        )));
    }
    let prefix = body.body_prefix.unwrap_or_else(|| "load".to_string());
    let ids = state
        .network
        .consumer_sends(&path, body.to.as_deref(), body.count, |n| {
            // Numbered from 1, so the last body of a burst of 1000 says 1000.
            json!({ "type": "text", "text": { "body": format!("{prefix} {}", n + 1) } })
        })?;
    Ok(HttpResponse::Created().json(json!({ "ids": ids })))
}

async fn business(state: State, path: web::Path<String>) -> Reply {
    let wa_id = phone::wa_id(&path).unwrap_or_else(|| path.into_inner());
    state
        .network
        .business_view(&wa_id)
        .map(|view| HttpResponse::Ok().json(view))
        .ok_or_else(|| ControlError::NotFound(format!("no business is registered as '{wa_id}'")))
}

/// The business's sessions by shard: which session holds which shard under which epoch, how
/// many sends each accepted or refused, and the last sessions that ended and why
/// (Multiconnect, shards.rs).
async fn shards(state: State, path: web::Path<String>) -> Reply {
    let wa_id = phone::wa_id(&path).unwrap_or_else(|| path.into_inner());
    let (sessions, ended) = state
        .network
        .shard_sessions(&wa_id)
        .ok_or_else(|| ControlError::NotFound(format!("no business is registered as '{wa_id}'")))?;
    Ok(HttpResponse::Ok().json(json!({ "wa_id": wa_id, "sessions": sessions, "ended": ended })))
}

/// What consumers see of a business (about, photo, business profile) and whether two-step
/// verification is on.
async fn business_profile(state: State, path: web::Path<String>) -> Reply {
    let wa_id = phone::wa_id(&path).unwrap_or_else(|| path.into_inner());
    state
        .network
        .profile_view(&wa_id)
        .map(|view| HttpResponse::Ok().json(view))
        .ok_or_else(|| ControlError::NotFound(format!("no business is registered as '{wa_id}'")))
}

fn registered_business(state: &State, input: &str) -> Result<String, ControlError> {
    actions::registered_business(&state.network, input)
}

async fn limits(state: State, path: web::Path<String>) -> Reply {
    let wa_id = registered_business(&state, &path)?;
    Ok(HttpResponse::Ok().json(state.network.limits_view(&wa_id)))
}

/// `{"tier": 1000 | 10000 | 100000 | null (unlimited), "upgraded": bool, "account": "id" | null,
/// "lift_throttling": true}`, all optional.
async fn set_limits(
    state: State,
    path: web::Path<String>,
    body: web::Json<Map<String, Value>>,
) -> Reply {
    let view = actions::set_limits(&state.network, &path, &body)?;
    Ok(HttpResponse::Ok().json(view))
}

async fn prefix_rules(state: State) -> HttpResponse {
    let rules = state.network.world().prefix_rules.list();
    HttpResponse::Ok().json(json!({ "rules": rules }))
}

async fn set_prefix_rule(state: State, body: web::Json<PrefixRule>) -> Reply {
    let profile = body.profile;
    let prefix = actions::set_prefix_rule(&state.network, body.into_inner())?;
    Ok(HttpResponse::Created().json(json!({ "prefix": prefix, "profile": profile })))
}

async fn delete_prefix_rule(state: State, path: web::Path<String>) -> Reply {
    let prefix = path.trim_start_matches('+');
    let removed = state.network.world().prefix_rules.remove(prefix);
    if removed {
        state.network.release_returned();
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ControlError::NotFound(format!(
            "no rule for prefix '{prefix}'"
        )))
    }
}

#[derive(Deserialize)]
struct OutageRequest {
    seconds: f64,
}

async fn start_outage(state: State, body: web::Json<OutageRequest>) -> Reply {
    let dropped = actions::start_outage(&state.network, body.seconds)?;
    Ok(HttpResponse::Created()
        .json(json!({ "seconds": body.seconds, "dropped_sessions": dropped })))
}

async fn outage(state: State) -> HttpResponse {
    let remaining = state.network.outage_remaining();
    HttpResponse::Ok().json(json!({
        "active": remaining.is_some(),
        "remaining_ms": remaining.map_or(0, |r| r.as_millis()),
    }))
}

async fn traffic(state: State, body: web::Json<traffic::TrafficRequest>) -> Reply {
    let request = body.into_inner();
    let volume = request.volume;
    let types = traffic::start(state.network.clone(), request)?;
    Ok(HttpResponse::Accepted().json(json!({ "volume": volume, "types": types })))
}

/// The body is the scenario, TOML or JSON. A step the network refuses does not stop the others;
/// the answer lists them (400 when any was refused).
async fn load_scenario(state: State, body: web::Bytes) -> Reply {
    let text = std::str::from_utf8(&body)
        .map_err(|_| ControlError::BadRequest("the scenario must be UTF-8 text".into()))?;
    let loaded = Scenario::parse(text)?.load(&state.network);
    if loaded.errors.is_empty() {
        Ok(HttpResponse::Created().json(loaded))
    } else {
        Ok(HttpResponse::BadRequest().json(loaded))
    }
}

/// The scenario entries waiting for a number to register.
async fn waiting_entries(state: State) -> HttpResponse {
    HttpResponse::Ok().json(scenario::waiting_view(&state.network))
}

/// Every business's templates (`business`, `namespace`, `name`, `language`, `status`, ...).
async fn list_templates(state: State) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "templates": state.network.all_templates() }))
}

async fn add_template(state: State, body: web::Json<TemplateInput>) -> Reply {
    let template = state.network.add_template(body.into_inner())?;
    Ok(HttpResponse::Created().json(template))
}

async fn update_template(
    state: State,
    path: web::Path<(String, String, String)>,
    body: web::Json<TemplateInput>,
) -> Reply {
    let (namespace, name, language) = path.into_inner();
    let template = state
        .network
        .update_template((&namespace, &name, &language), body.into_inner())?;
    Ok(HttpResponse::Ok().json(template))
}

async fn delete_template(state: State, path: web::Path<(String, String, String)>) -> Reply {
    let (namespace, name, language) = path.into_inner();
    state
        .network
        .delete_template((&namespace, &name, &language))?;
    Ok(HttpResponse::NoContent().finish())
}

/// Every catalog with its linked numbers and products.
async fn list_catalogs(state: State) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "catalogs": state.network.catalogs() }))
}

async fn catalog(state: State, path: web::Path<String>) -> Reply {
    state
        .network
        .catalog(&path)
        .map(|catalog| HttpResponse::Ok().json(catalog))
        .ok_or_else(|| ControlError::NotFound(format!("no catalog '{path}'")))
}

/// `{"name", "linked_numbers": [...], "products": [{"product_retailer_id", "compliant"}]}`
/// creates (201) or replaces (200) the catalog.
async fn put_catalog(
    state: State,
    path: web::Path<String>,
    body: web::Json<CatalogInput>,
) -> Reply {
    let (catalog, created) = state.network.put_catalog(&path, body.into_inner())?;
    let mut reply = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(reply.json(catalog))
}

async fn delete_catalog(state: State, path: web::Path<String>) -> Reply {
    if state.network.delete_catalog(&path) {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ControlError::NotFound(format!("no catalog '{path}'")))
    }
}

/// A consumer "uploads" a file (raw body, its `Content-Type`) to attach to a later message.
async fn upload_media(state: State, req: HttpRequest, body: web::Bytes) -> Reply {
    let mime = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream");
    let view = state.network.media.consumer_upload(mime, body.to_vec());
    Ok(HttpResponse::Created().json(view))
}

/// What the network holds under a media id (businesses' sends and consumers' uploads).
async fn media_info(state: State, path: web::Path<String>) -> Reply {
    state
        .network
        .media
        .view(&path)
        .map(|view| HttpResponse::Ok().json(view))
        .ok_or_else(|| ControlError::NotFound(format!("no media '{path}'")))
}

async fn media_bytes(state: State, path: web::Path<String>) -> Reply {
    let media = state
        .network
        .media
        .get(&path)
        .ok_or_else(|| ControlError::NotFound(format!("no media '{path}'")))?;
    Ok(HttpResponse::Ok()
        .content_type(media.mime_type)
        .body(media.bytes))
}

#[derive(Deserialize, Default)]
struct IdentityChange {
    to: Option<String>,
    hash: Option<String>,
}

/// The consumer reinstalled WhatsApp or changed phones: a new identity (security code), and a
/// `user_identity_changed` system message to the business.
async fn change_identity(
    state: State,
    path: web::Path<String>,
    body: Option<web::Json<IdentityChange>>,
) -> Reply {
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    let wa_id = valid_wa_id(&path)?;
    let hash = body
        .hash
        .unwrap_or_else(crate::model::media::new_identity_hash);
    let identity = crate::model::directory::Identity::new(hash.clone());
    let created_ms = identity.created_timestamp;
    let name = {
        let mut world = state.network.world();
        let consumer = world.consumer(&wa_id);
        consumer.identity = identity;
        consumer.name.clone()
    };
    let message = json!({
        "type": "system",
        "system": {
            "body": format!("User {name}'s security code changed"),
            "customer": wa_id,
            "type": "user_identity_changed",
        },
        "identity": { "acknowledged": false, "created_timestamp": created_ms, "hash": hash },
    });
    let ids = state
        .network
        .consumer_sends(&wa_id, body.to.as_deref(), 1, |_| message.clone())?;
    Ok(HttpResponse::Created().json(json!({ "id": ids.first(), "hash": hash })))
}
