//! The network lifecycle (design.md §3): on every connection
//! `unregistered → connecting → loading templates and sticker packs → draining offline messages → ready`,
//! reconnecting with back-off whenever the connection drops.

use crate::engine::inbound;
use crate::network::{self, IncomingPush, NetClient, SessionError};
use crate::state::cluster::ShardHold;
use crate::state::CoreState;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use wa_api::health::GatewayStatus;
use wa_api::webhooks::CallbackKind;
use wa_netproto::{Credentials, Request, Response};

const FIRST_BACKOFF: Duration = Duration::from_millis(250);

pub async fn run(state: Arc<CoreState>) {
    let tls = match network::tls_config(state.config.network_ca_file.as_deref()) {
        Ok(tls) => tls,
        Err(e) => {
            tracing::error!("network TLS configuration: {e}; the coreapp cannot connect");
            return;
        }
    };
    let max_backoff = Duration::from_secs(state.config.reconnect_max_backoff_secs);
    let mut backoff = FIRST_BACKOFF;
    loop {
        let hold = wait_for_shard(&state).await;
        let outcome = connect_once(&state, tls.clone(), hold).await;
        if outcome.is_err() {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(max_backoff);
        } else {
            backoff = FIRST_BACKOFF;
        }
    }
}

/// A coreapp of a cluster connects only while it holds a shard, with that shard's scope; a
/// standby waits here, disconnected. A master or a single node goes on at once.
async fn wait_for_shard(state: &Arc<CoreState>) -> Option<ShardHold> {
    let cluster = &state.cluster;
    if !cluster.enabled {
        if cluster.guarded {
            // Not while another coreapp is live on this database (engine::cluster::single).
            let _ = cluster.subscribe_shard().wait_for(Option::is_some).await;
        }
        return None;
    }
    if cluster.master {
        return None;
    }
    if cluster.shard().is_none() {
        state.set_gateway(GatewayStatus::Disconnected);
    }
    let mut shard = cluster.subscribe_shard();
    let held = shard.wait_for(Option::is_some).await.ok().and_then(|h| *h);
    held
}

/// One connection from start to end. `Err` when it could not be established.
async fn connect_once(
    state: &Arc<CoreState>,
    tls: Arc<rustls::ClientConfig>,
    hold: Option<ShardHold>,
) -> Result<(), ()> {
    let registration = state.store.registration().await.map_err(|e| {
        tracing::error!("reading the registration failed: {e}");
    })?;
    // A number deregistered through the Cloud API keeps its credentials, unused until registered.
    let registration = registration.filter(|r| r.deregistered_at.is_none());
    let registered = registration.is_some();
    state.set_gateway(if registered {
        GatewayStatus::Connecting
    } else {
        GatewayStatus::Unregistered
    });
    let timeout = Duration::from_secs(state.config.network_request_timeout_secs);
    let (client, pushes) = network::connect(&state.config.network_address, tls, timeout)
        .await
        .map_err(|e| {
            tracing::warn!(
                "cannot reach the network at {}: {e}",
                state.config.network_address
            );
            if registered {
                state.set_gateway(GatewayStatus::Disconnected);
            }
        })?;
    // A master holds no connection of the number: only an anonymous session for registration.
    let credentials = registration
        .filter(|_| !state.cluster.master)
        .map(|r| Credentials {
            phone: r.phone,
            secret: r.secret,
        });
    let hello = Request::Hello {
        client_version: state.settings_version(),
        credentials,
        scope: hold.map_or(wa_netproto::SessionScope::Whole, ShardHold::scope),
    };
    match client.request(hello).await {
        Ok(Response::Welcome {
            business: Some(business),
            backlog,
        }) => {
            business_session(state, client, pushes, &business, backlog, hold).await;
            Ok(())
        }
        Ok(Response::Welcome { business: None, .. }) => {
            anonymous_session(state, client, hold).await;
            Ok(())
        }
        Err(SessionError::Net(e)) if e.code == wa_netproto::STALE_SHARD_EPOCH => {
            tracing::warn!(
                "the network refused this coreapp's shard epoch (a newer holder is connected); \
                 waiting for the directory"
            );
            state.set_gateway(GatewayStatus::Disconnected);
            Err(())
        }
        Ok(other) => {
            tracing::warn!("unexpected answer to hello: {other:?}");
            Err(())
        }
        Err(SessionError::Net(e)) if e.code == 1005 => {
            let reason = e.details.as_deref().unwrap_or(&e.title);
            credentials_refused(state, client, reason, hold).await;
            Ok(())
        }
        Err(e) => {
            tracing::warn!("hello failed: {e}");
            Err(())
        }
    }
}

/// The network no longer knows the stored registration (its state was wiped, the number was
/// registered elsewhere): say so in the log, the health (`unregistered`) and once by webhook,
/// and keep the session anonymous so `POST /v1/account` can register any number afresh.
async fn credentials_refused(
    state: &Arc<CoreState>,
    client: NetClient,
    reason: &str,
    hold: Option<ShardHold>,
) {
    tracing::error!(
        "the network refused this number's credentials ({reason}); register again with POST /v1/account"
    );
    if state.set_credentials_refused() {
        report_refusal(state, reason).await;
    }
    anonymous_session(state, client, hold).await;
}

/// An `errors` webhook: the integration learns that sends will fail until it registers again.
async fn report_refusal(state: &Arc<CoreState>, reason: &str) {
    let details = format!(
        "The WhatsApp network refused this installation's registration ({reason}); register again with POST /v1/account"
    );
    let body = serde_json::json!({
        "errors": [{ "code": 1005, "title": "Access denied", "details": details }]
    });
    let callback = state.new_callback(
        CallbackKind::Errors,
        format!("errors:registration:{}", uuid::Uuid::new_v4()),
        &body,
    );
    if let Err(e) = state.store.enqueue_callback(callback).await {
        tracing::error!("queuing the registration error webhook failed: {e}");
    }
    state.wake_dispatchers();
}

/// Before registration (and always on a master): keep the session for `/v1/account` calls
/// until a number is registered.
async fn anonymous_session(state: &Arc<CoreState>, client: NetClient, hold: Option<ShardHold>) {
    state.set_gateway(GatewayStatus::Unregistered);
    state.set_session(Some(client.clone()));
    if hold.is_some() {
        // A coreapp of a cluster learns of a registration made on a master only from the
        // database: look again every heartbeat.
        let every = state.cluster.heartbeat_interval(&state.settings.current());
        tokio::select! {
            _ = wait_for_new_registration(state, &client, hold) => {}
            _ = tokio::time::sleep(every) => client.close(),
        }
    } else {
        wait_for_new_registration(state, &client, hold).await;
    }
    state.set_session(None);
}

/// Returns when the session ends, a (new) registration was stored, or (in a cluster) this
/// coreapp's shard moved; the session is then closed so the next one presents the new
/// credentials or scope.
async fn wait_for_new_registration(
    state: &Arc<CoreState>,
    client: &NetClient,
    hold: Option<ShardHold>,
) {
    let mut shard = state.cluster.subscribe_shard();
    let moved = async {
        if state.cluster.enabled {
            let _ = shard.wait_for(|now| *now != hold).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        _ = client.closed() => {}
        _ = state.registration_changed.notified() => client.close(),
        _ = moved => client.close(),
    }
}

async fn business_session(
    state: &Arc<CoreState>,
    client: NetClient,
    pushes: mpsc::Receiver<IncomingPush>,
    business: &str,
    backlog: u64,
    hold: Option<ShardHold>,
) {
    state.set_gateway(GatewayStatus::Connecting);
    state.set_session(Some(client.clone()));
    // The push processor starts first: the backlog arrives right after the welcome and must keep
    // flowing while templates load.
    let (drained_tx, drained_rx) = oneshot::channel();
    tokio::spawn(inbound::process(
        state.clone(),
        client.clone(),
        pushes,
        drained_tx,
    ));
    crate::domain::profile::push_all(state, &client).await;
    tracing::info!("connected to the network as +{business}; initializing: loading templates");
    match client.request(Request::GetTemplates).await {
        Ok(Response::Templates { templates }) => {
            let count = state.templates.replace(templates);
            tracing::info!("initializing: {count} message templates loaded")
        }
        Ok(other) => tracing::warn!("unexpected answer to the template request: {other:?}"),
        Err(e) => tracing::warn!("loading templates failed: {e}"),
    }
    crate::domain::first_party_stickers::load(state, &client).await;
    tracing::info!(
        "initializing: draining offline messages ({backlog} waiting); sends answer 1011 until this ends"
    );
    let limit = Duration::from_secs(state.config.offline_drain_timeout_secs);
    if tokio::time::timeout(limit, drained_rx).await.is_err() {
        tracing::warn!(
            "the offline backlog did not finish draining within {limit:?}; serving anyway"
        );
    }
    // A shard that moved while initializing must not start sending.
    let still_held = !state.cluster.enabled || state.cluster.shard() == hold;
    if !client.is_closed() && still_held {
        state.set_gateway(GatewayStatus::Connected);
        state.set_ready(true);
        tracing::info!("ready: the coreapp accepts messages");
        tokio::select! {
            _ = wait_for_new_registration(state, &client, hold) => {}
            _ = registration_withdrawn(state, business, hold) => client.close(),
        }
    }
    state.set_ready(false);
    state.set_session(None);
    state.set_gateway(GatewayStatus::Disconnected);
    tracing::warn!("disconnected from the network; reconnecting");
}

/// Returns when a coreapp of a cluster reads, at one of its heartbeats, that the number it is
/// connected as was deregistered or replaced on another node (the local notice reaches only the
/// node that made the change). Never returns on a single node.
async fn registration_withdrawn(state: &Arc<CoreState>, business: &str, hold: Option<ShardHold>) {
    if hold.is_none() {
        return std::future::pending().await;
    }
    loop {
        tokio::time::sleep(state.cluster.heartbeat_interval(&state.settings.current())).await;
        match state.store.registration().await {
            Ok(Some(r)) if r.deregistered_at.is_none() && r.phone == business => {}
            Ok(_) => {
                tracing::warn!("+{business} is no longer the registered number; reconnecting");
                return;
            }
            // The database being away is the supervisor's concern; keep serving meanwhile.
            Err(e) => tracing::warn!("cannot read the registration: {e}"),
        }
    }
}

impl CoreState {
    fn settings_version(&self) -> String {
        format!("onprem-rs/{}", env!("CARGO_PKG_VERSION"))
    }
}
