//! The control API: plain HTTP/JSON through which tests and demos play the consumers' side and
//! read what the network saw. Paths and shapes are relied on by other crates' tests: keep them.

use crate::catalogs::CatalogInput;
use crate::directory::{ConsumerView, Profile};
use crate::errors::ControlError;
use crate::messaging::MAX_BURST;
use crate::network::Network;
use crate::phone;
use crate::templates::TemplateInput;
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
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(network_data.clone())
            .app_data(json_config())
            .configure(routes)
            .configure(crate::control_config::routes)
            .wrap(actix_web::middleware::from_fn(
                crate::control_config::durable,
            ))
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

#[derive(Deserialize)]
struct NewConsumer {
    wa_id: String,
    name: Option<String>,
    profile: Option<Profile>,
}

async fn upsert_consumer(state: State, body: web::Json<NewConsumer>) -> Reply {
    let body = body.into_inner();
    let wa_id = valid_wa_id(&body.wa_id)?;
    let view = state
        .network
        .upsert_consumer(&wa_id, body.name, body.profile);
    Ok(HttpResponse::Created().json(view))
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
    let mut message = body.into_inner();
    let to = match message.remove("to") {
        None | Some(Value::Null) => None,
        Some(Value::String(to)) => Some(to),
        Some(_) => return Err(ControlError::BadRequest("to must be a string".into())),
    };
    if !message.get("type").is_some_and(Value::is_string) {
        return Err(ControlError::BadRequest(
            "type is required (text, image, location, ...)".into(),
        ));
    }
    crate::media::attach_consumer_media(&state.network.media, &mut message)
        .map_err(ControlError::BadRequest)?;
    crate::media::attach_referral_media(&state.network.media, &mut message)
        .map_err(ControlError::BadRequest)?;
    let message = Value::Object(message);
    let ids = state
        .network
        .consumer_sends(&path, to.as_deref(), 1, |_| message.clone())?;
    Ok(HttpResponse::Created().json(json!({ "id": ids.first() })))
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

/// The business's sessions by shard: which session holds which shard under which epoch, and
/// how many sends each accepted or refused (Multiconnect, shards.rs).
async fn shards(state: State, path: web::Path<String>) -> Reply {
    let wa_id = phone::wa_id(&path).unwrap_or_else(|| path.into_inner());
    let sessions = state
        .network
        .shard_sessions(&wa_id)
        .ok_or_else(|| ControlError::NotFound(format!("no business is registered as '{wa_id}'")))?;
    Ok(HttpResponse::Ok().json(json!({ "wa_id": wa_id, "sessions": sessions })))
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

fn valid_wa_id(input: &str) -> Result<String, ControlError> {
    phone::wa_id(input).ok_or_else(|| {
        ControlError::BadRequest(format!("'{input}' is not a valid wa_id (7 to 15 digits)"))
    })
}

fn registered_business(state: &State, input: &str) -> Result<String, ControlError> {
    let wa_id = phone::wa_id(input).unwrap_or_else(|| input.to_string());
    match state.network.business_view(&wa_id) {
        Some(_) => Ok(wa_id),
        None => Err(ControlError::NotFound(format!(
            "no business is registered as '{wa_id}'"
        ))),
    }
}

async fn limits(state: State, path: web::Path<String>) -> Reply {
    let wa_id = registered_business(&state, &path)?;
    Ok(HttpResponse::Ok().json(state.network.limits_view(&wa_id)))
}

/// `{"tier": 1000 | 10000 | 100000 | null (unlimited), "upgraded": bool}`, both optional.
async fn set_limits(
    state: State,
    path: web::Path<String>,
    body: web::Json<Map<String, Value>>,
) -> Reply {
    let wa_id = registered_business(&state, &path)?;
    let tier = match body.get("tier") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) if s == "unlimited" => Some(None),
        Some(v) => match v.as_u64().filter(|n| *n >= 1) {
            Some(n) => Some(Some(usize::try_from(n).unwrap_or(usize::MAX))),
            None => {
                return Err(ControlError::BadRequest(
                    "tier must be a positive number, null or \"unlimited\"".into(),
                ))
            }
        },
    };
    let upgraded = match body.get("upgraded") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(ControlError::BadRequest(
                "upgraded must be a boolean".into(),
            ))
        }
    };
    Ok(HttpResponse::Ok().json(state.network.set_limits(&wa_id, tier, upgraded)))
}

async fn prefix_rules(state: State) -> HttpResponse {
    let rules = state.network.world().prefix_rules.list();
    HttpResponse::Ok().json(json!({ "rules": rules }))
}

#[derive(Deserialize)]
struct PrefixRule {
    prefix: String,
    profile: Profile,
}

async fn set_prefix_rule(state: State, body: web::Json<PrefixRule>) -> Reply {
    let PrefixRule { prefix, profile } = body.into_inner();
    let prefix = prefix.trim_start_matches('+').to_string();
    if prefix.is_empty() || prefix.len() > 15 || !prefix.chars().all(|c| c.is_ascii_digit()) {
        return Err(ControlError::BadRequest(
            "prefix must be 1 to 15 digits".into(),
        ));
    }
    state
        .network
        .world()
        .prefix_rules
        .set(prefix.clone(), profile);
    Ok(HttpResponse::Created().json(json!({ "prefix": prefix, "profile": profile })))
}

async fn delete_prefix_rule(state: State, path: web::Path<String>) -> Reply {
    let prefix = path.trim_start_matches('+');
    if state.network.world().prefix_rules.remove(prefix) {
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
    let max = crate::outage::MAX_OUTAGE.as_secs_f64();
    if !(body.seconds > 0.0 && body.seconds <= max) {
        return Err(ControlError::BadRequest(format!(
            "seconds must be more than 0 and at most {max}"
        )));
    }
    let dropped = state
        .network
        .start_outage(std::time::Duration::from_secs_f64(body.seconds));
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

async fn traffic(state: State, body: web::Json<crate::traffic::TrafficRequest>) -> Reply {
    let request = body.into_inner();
    let volume = request.volume;
    let types = crate::traffic::start(state.network.clone(), request)?;
    Ok(HttpResponse::Accepted().json(json!({ "volume": volume, "types": types })))
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
    let hash = body.hash.unwrap_or_else(crate::media::new_identity_hash);
    let identity = crate::directory::Identity::new(hash.clone());
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
