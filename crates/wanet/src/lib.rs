//! `wanet`, the simulated WhatsApp network (design.md §5).
//!
//! What exists so far is its control API server with a liveness probe; registration, the
//! directory, phones, templates, the offline store and the framed TLS protocol the coreapp
//! connects to are the next milestone.

use actix_web::dev::Server;
use actix_web::{web, App, HttpResponse, HttpServer};
use std::net::SocketAddr;

pub struct RunningWanet {
    pub server: Server,
    pub control_addresses: Vec<SocketAddr>,
}

/// Starts the control API on `control_listen`.
pub fn start(control_listen: &str) -> std::io::Result<RunningWanet> {
    let server = HttpServer::new(|| App::new().route("/control/health", web::get().to(health)))
        .workers(1)
        .bind(control_listen)?;
    let control_addresses = server.addrs();
    tracing::info!("wanet control API listening on {control_addresses:?}");
    Ok(RunningWanet {
        server: server.run(),
        control_addresses,
    })
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}
