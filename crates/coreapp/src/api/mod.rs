//! The internal RPC the webapp calls: one handler per [`Endpoint`] of the shared route table.
//! Public API calls are relayed on the same path and method (the webapp has checked the token,
//! the role and the JSON syntax); the answer is the complete envelope. Coreapp-only commands live
//! under `/rpc/`.

pub mod account;
pub mod backup;
pub mod certificates;
pub mod cloud_registration;
pub mod cloud_webhooks;
pub mod contacts;
pub mod gc;
pub mod identity;
pub mod message_status;
pub mod messages;
pub mod profile;
pub mod settings;
pub mod shards;
pub mod stats;
pub mod stats_internal;
pub mod stickerpacks;
pub mod support;
pub mod templates;
pub mod webhook_test;

use crate::state::CoreState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, HttpResponse};
use tracing::Instrument;
use wa_api::health::GatewayStatus;
use wa_api::rpc::{paths, Endpoint, GatewayStatusReply, NodeKind};
use wa_api::ApiError;

/// Registers every endpoint of the table, each path once with all its methods; the paths only
/// the primary master answers are guarded (every route of such a path is master-only).
pub fn configure(cfg: &mut web::ServiceConfig) {
    for (path, routes) in paths() {
        let master_only = routes.iter().all(|r| r.node == NodeKind::PrimaryMaster);
        let mut resource = web::resource(path);
        for route in routes {
            resource = resource.route(handler(route.endpoint).method(route.method.to_actix()));
        }
        let resource = resource.default_service(web::to(method_not_allowed));
        if master_only {
            cfg.service(resource.wrap(from_fn(require_primary_master)));
        } else {
            cfg.service(resource);
        }
    }
}

/// 500/1017 on any node of a cluster but the primary master (spec onprem-rest §1.2).
async fn require_primary_master(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let primary = req
        .app_data::<web::Data<CoreState>>()
        .is_none_or(|state| state.cluster.is_primary());
    if !primary {
        return Err(crate::util::failure::not_primary_master().into());
    }
    next.call(req).await
}

/// The handler of each endpoint. The match is exhaustive: an endpoint added to the table without
/// a handler here does not compile.
fn handler(endpoint: Endpoint) -> actix_web::Route {
    use Endpoint as E;
    let route = web::route();
    match endpoint {
        E::GatewayStatus => route.to(gateway_status),
        E::ProfilePhotoGet => route.to(profile::get_photo),
        E::ProfilePhotoSet => route.to(profile::set_photo),
        E::ProfilePhotoDelete => route.to(profile::delete_photo),
        E::WebhookCaGet => route.to(certificates::get_ca),
        E::WebhookCaSet => route.to(certificates::set_ca),
        E::WebhookCaDelete => route.to(certificates::delete_ca),
        E::CloudWebhooksGet => route.to(cloud_webhooks::get),
        E::CloudWebhooksSet => route.to(cloud_webhooks::set),
        E::CloudWebhooksDelete => route.to(cloud_webhooks::delete),
        E::CloudRegister => route.to(cloud_registration::register),
        E::CloudDeregister => route.to(cloud_registration::deregister),
        E::AccountRequestCode => route.to(account::request_code),
        E::AccountVerify => route.to(account::verify),
        E::AccountShardsGet => route.to(shards::get),
        E::AccountShardsSet => route.to(shards::set),
        E::ApplicationSettingsGet => route.to(settings::get_settings),
        E::ApplicationSettingsPatch => route.to(settings::patch_settings),
        E::ApplicationSettingsReset => route.to(settings::delete_settings),
        E::WebhookTest => route.to(webhook_test::run),
        E::ProfileAboutGet => route.to(profile::get_about),
        E::ProfileAboutSet => route.to(profile::set_about),
        E::BusinessProfileGet => route.to(profile::get_business),
        E::BusinessProfileSet => route.to(profile::set_business),
        E::ComplianceGet => route.to(profile::get_compliance),
        E::ComplianceSet => route.to(profile::set_compliance),
        E::TwoStepEnable => route.to(profile::enable_two_step),
        E::TwoStepDisable => route.to(profile::disable_two_step),
        E::Backup => route.to(backup::backup),
        E::Restore => route.to(backup::restore),
        E::MessageGc => route.to(gc::message_gc),
        E::MediaGc => route.to(gc::media_gc),
        E::ContactsCheck => route.to(contacts::check),
        E::IdentityGet => route.to(identity::get),
        E::IdentityAcknowledge => route.to(identity::acknowledge),
        E::MessageSend => route.to(messages::send),
        E::MessageMarkRead => route.to(messages::mark_read),
        E::MessageStatus => route.to(message_status::get),
        E::Templates => route.to(templates::list),
        E::TemplateCreate => route.to(templates::create),
        E::TemplateDelete => route.to(templates::delete),
        E::StickerPacksList => route.to(stickerpacks::list_packs),
        E::StickerPackCreate => route.to(stickerpacks::create_pack),
        E::StickerPackGet => route.to(stickerpacks::get_pack),
        E::StickerPackUpdate => route.to(stickerpacks::update_pack),
        E::StickerPackDelete => route.to(stickerpacks::delete_pack),
        E::StickersList => route.to(stickerpacks::list_stickers),
        E::StickerAdd => route.to(stickerpacks::add_sticker),
        E::StickerGet => route.to(stickerpacks::get_sticker),
        E::StickerUpdate => route.to(stickerpacks::update_sticker),
        E::StickerDelete => route.to(stickerpacks::delete_sticker),
        E::StatsApp => route.to(stats::app),
        E::StatsDb => route.to(stats::db),
        E::StatsAppInternal => route.to(stats_internal::app),
        E::StatsDbInternal => route.to(stats_internal::db),
        E::Support => route.to(support::get),
    }
}

/// The node's connection state; in a cluster with its id and role.
async fn gateway_status(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    let cluster = &state.cluster;
    let mut gateway_status = state.gateway();
    if cluster.enabled && cluster.master && state.registered_number().await?.is_some() {
        gateway_status = master_status(&state).await?;
    }
    Ok(HttpResponse::Ok().json(GatewayStatusReply {
        gateway_status,
        node: cluster.enabled.then(|| cluster.node_id.clone()),
        role: cluster.role(),
    }))
}

/// Runs the call inside a `request` span with the webapp's request id (its `X-Request-ID`), so
/// every log line of the call names the same id as the webapp's access log. A call without one
/// (a direct call, a health probe) logs without.
pub async fn request_span(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(wa_api::rpc::REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| wa_api::rpc::is_acceptable_request_id(id))
        .map(str::to_owned);
    match id {
        Some(id) => {
            let span = tracing::info_span!("request", id = %id);
            next.call(req).instrument(span).await
        }
        None => next.call(req).await,
    }
}

/// A master holds no business session of the number. Its health follows the pictures of spec
/// §9.1: with High Availability every master is `disconnected`; with Multiconnect (more than
/// one shard) the primary master is `connected` while its own session to the network is up.
async fn master_status(state: &CoreState) -> Result<GatewayStatus, ApiError> {
    if !state.cluster.is_primary() || state.session().is_none() {
        return Ok(GatewayStatus::Disconnected);
    }
    let shards = crate::domain::shards::stored_count(&state.store)
        .await
        .map_err(crate::util::failure::store_failure)?;
    Ok(if shards > 1 {
        GatewayStatus::Connected
    } else {
        GatewayStatus::Disconnected
    })
}

/// A path outside the table: 404/1006 `URL path not found`.
pub async fn unknown_command() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found_path())
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::method_not_allowed())
}
