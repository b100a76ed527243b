//! `GET /v1/support` (spec onprem-rest §9.5): the diagnostic bundle of this node.

use crate::state::CoreState;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use std::path::Path;
use wa_api::envelope::payload;
use wa_api::health::GatewayStatus;
use wa_api::{ApiError, Meta};
use wa_store::Backend;

/// Environment variables whose names contain one of these are left out of `env`.
const SECRET_MARKERS: &[&str] = &["PASSWORD", "SECRET", "KEY", "TOKEN", "PASS"];
/// Release builds of the original expired after about 180 days; ours never do, so the bundle
/// reports a date far enough away that tools such as WADebug never warn.
const EXPIRE_TIMESTAMP: &str = "2099-12-31T23:59:59";

pub async fn get(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    let registered = state.registered_number().await?;
    let meta = Meta::current_coreapp();
    let registration = state
        .store
        .registration()
        .await
        .map_err(crate::util::failure::store_failure)?;
    let backend = state.store.backend();
    let free = free_space(Path::new("."));
    let support = json!({
        "context": "healthcheck",
        "db_engine": db_engine(backend),
        "db_info": [format!("{} (diesel 2)", backend.name())],
        "debug_info": registered.clone().unwrap_or_else(|| "unregistered".into()),
        "description": format!("onprem-rs {}", meta.version),
        "device_iso8601": chrono_now(),
        "e2e": {
            "identity_timestamp": registration.as_ref().map_or(0, |r| r.registered_at),
            "registration_id": registration.as_ref().map_or(0, |r| registration_id(&r.phone)),
        },
        "env": visible_env(),
        "expire_timestamp": EXPIRE_TIMESTAMP,
        "free_space_data": free,
        "free_space_logs": free,
        "free_space_media_incoming": free,
        "free_space_media_outgoing": free,
        "lc": "en",
        "lg": "US",
        "multi_connect": false,
        "os_name": format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
        "os_version": os_version(),
        "schema": { "store": state.store.migrations_applied() },
        "socket_conn": socket_conn(state.gateway(), state.is_ready()),
        "version": meta.version,
    });
    Ok(HttpResponse::Ok().json(payload("support", support, Meta::current_coreapp())))
}

fn db_engine(backend: Backend) -> &'static str {
    backend.name()
}

/// `UP`, `UP receiving offline` while the backlog drains, `DN` when down, `UNK` before the first
/// connection attempt.
fn socket_conn(gateway: GatewayStatus, ready: bool) -> &'static str {
    match gateway {
        GatewayStatus::Connected if ready => "UP",
        GatewayStatus::Connected | GatewayStatus::Connecting => "UP receiving offline",
        GatewayStatus::Disconnected | GatewayStatus::Unregistered => "DN",
        GatewayStatus::Uninitialized => "UNK",
    }
}

fn visible_env() -> Vec<String> {
    let mut env: Vec<String> = std::env::vars()
        .filter(|(name, _)| name.starts_with("WA_") || name.starts_with("WEBAPP_"))
        .filter(|(name, _)| !SECRET_MARKERS.iter().any(|m| name.contains(m)))
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    env.sort();
    env
}

fn free_space(dir: &Path) -> u64 {
    rustix::fs::statvfs(dir).map_or(0, |s| s.f_bavail.saturating_mul(s.f_frsize))
}

fn os_version() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                l.strip_prefix("VERSION_ID=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        })
        .unwrap_or_else(|| "unknown".into())
}

/// A stable small number derived from the number (the original's Signal registration id).
fn registration_id(phone: &str) -> u32 {
    phone.bytes().fold(17u32, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u32::from(b))
    }) % 16_380
        + 1
}

fn chrono_now() -> Value {
    json!(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string())
}
