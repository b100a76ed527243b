//! Start-up: open the store, make sure the admin account, the token key and the certificate
//! exist, then serve HTTPS.

use crate::ratelimit::RequestRateLimits;
use crate::routes::monitoring::WebMetrics;
use crate::state::{AppState, JwtKeys};
use crate::{middleware, proxy_protocol, ratelimit, routes, tls};
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, NormalizePath};
use actix_web::{web, App, HttpServer};
use std::net::SocketAddr;
use std::time::Duration;
use wa_api::users::{ADMIN_USERNAME, DEFAULT_ADMIN_PASSWORD, ROLE_ADMIN};
use wa_common::Settings;
use wa_store::{NewUser, Store};

/// How often expired tokens are swept from the database.
const TOKEN_SWEEP_INTERVAL: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Store(#[from] wa_store::StoreError),
    #[error("certificate: {0}")]
    Cert(#[from] tls::CertError),
    #[error("{0}")]
    Other(String),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
}

/// A webapp that is listening; await `server` to run it until shutdown.
pub struct RunningWebapp {
    pub server: Server,
    pub addresses: Vec<SocketAddr>,
    pub state: web::Data<AppState>,
}

/// Opens the database from the settings and starts the webapp.
pub async fn start(settings: Settings) -> Result<RunningWebapp, StartError> {
    let store = wa_common::storage::open(&settings).await?;
    start_with_store(settings, store).await
}

/// Starts the webapp on an already opened store (the one-process launcher shares one).
pub async fn start_with_store(
    settings: Settings,
    store: Store,
) -> Result<RunningWebapp, StartError> {
    let (data, tls_config) = prepare(&settings, store).await?;
    spawn_token_sweeper(data.state.clone());
    let app_data = data.clone();
    let app = move || app_data.app();
    let (server, addresses) = if settings.webapp.proxy_protocol {
        let listener = std::net::TcpListener::bind(settings.webapp.listen.as_str())?;
        let addresses = vec![listener.local_addr()?];
        tracing::info!("webapp expects a PROXY protocol v2 header on every connection");
        let server = proxy_protocol::serve(listener, tls_config, settings.webapp.workers, app)?;
        (server, addresses)
    } else {
        let mut server =
            HttpServer::new(app).bind_rustls_0_23(settings.webapp.listen.as_str(), tls_config)?;
        if settings.webapp.workers > 0 {
            server = server.workers(settings.webapp.workers);
        }
        let addresses = server.addrs();
        (server.run(), addresses)
    };
    tracing::info!("webapp listening on https://{}", display_addrs(&addresses));
    Ok(RunningWebapp {
        server,
        addresses,
        state: data.state,
    })
}

/// What every worker's `App` shares, built once by [`prepare`].
#[derive(Clone)]
pub struct AppData {
    pub state: web::Data<AppState>,
    metrics: web::Data<WebMetrics>,
    rate_limits: web::Data<RequestRateLimits>,
    resolver: web::Data<tls::CertResolver>,
}

/// Everything before listening: the admin account, the token key, the serving certificate and
/// the shared state; also the TLS configuration to listen with. The in-process tests
/// (`tests/common/test_app.rs`) call it on a fresh database and skip the listener.
pub async fn prepare(
    settings: &Settings,
    store: Store,
) -> Result<(AppData, rustls::ServerConfig), StartError> {
    wa_api::envelope::set_version(&settings.version);
    wa_common::tls::install_crypto_provider();
    seed_admin(&store, settings.webapp.bcrypt_cost).await?;
    let jwt = jwt_keys(&store, settings).await?;
    let cert = tls::load_serving(&store, &settings.webapp.server_name).await?;
    let resolver = std::sync::Arc::new(tls::CertResolver::new(tls::certified_key(&cert)?));
    let tls_config = tls::rustls_config(resolver.clone())?;
    let state = AppState::new(store, settings.clone(), jwt)
        .map_err(|e| StartError::Other(e.to_string()))?;
    let metrics = WebMetrics::new().map_err(|e| StartError::Other(e.to_string()))?;
    let data = AppData {
        state: web::Data::new(state),
        metrics: web::Data::new(metrics),
        rate_limits: web::Data::new(RequestRateLimits::new(&settings.webapp)),
        resolver: web::Data::from(resolver),
    };
    Ok((data, tls_config))
}

impl AppData {
    /// The webapp as one actix `App`: the route table behind its middleware. Each worker of
    /// [`start_with_store`] runs one; the in-process tests run the same.
    pub fn app(
        &self,
    ) -> App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<impl MessageBody>,
            Error = actix_web::Error,
            InitError = (),
        >,
    > {
        App::new()
            .app_data(self.state.clone())
            .app_data(self.metrics.clone())
            .app_data(self.rate_limits.clone())
            .app_data(self.resolver.clone())
            .configure(routes::configure)
            .default_service(web::to(routes::unknown_path))
            // Innermost of the three: sees the normalised path, and its 429s still get a
            // request id, an access-log line and a place in the metrics.
            .wrap(from_fn(ratelimit::enforce))
            .wrap(NormalizePath::trim())
            .wrap(from_fn(middleware::request_context))
    }
}

fn display_addrs(addresses: &[SocketAddr]) -> String {
    addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The default `admin`/`secret` account, flagged so the first login must set a new password.
async fn seed_admin(store: &Store, cost: u32) -> Result<(), StartError> {
    if store.find_user(ADMIN_USERNAME).await?.is_some() {
        return Ok(());
    }
    let hash = tokio::task::spawn_blocking(move || bcrypt::hash(DEFAULT_ADMIN_PASSWORD, cost))
        .await
        .map_err(|e| StartError::Other(e.to_string()))?
        .map_err(|e| StartError::Other(e.to_string()))?;
    let inserted = store
        .ensure_user(NewUser {
            username: ADMIN_USERNAME.into(),
            password_hash: hash,
            role: ROLE_ADMIN.into(),
            must_change_password: true,
        })
        .await?;
    if inserted {
        tracing::info!(
            "created the default admin account; the first login must set a new password"
        );
    }
    Ok(())
}

/// The configured key, else one generated once and shared through the database, so all webapps
/// accept each other's tokens.
async fn jwt_keys(store: &Store, settings: &Settings) -> Result<JwtKeys, StartError> {
    let secret = match &settings.webapp.jwt_key {
        Some(key) => key.clone(),
        None => {
            let bytes: [u8; 32] = rand::random();
            let generated: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            store
                .get_or_insert_secret(wa_api::keys::JWT_SIGNING_KEY, generated)
                .await?
        }
    };
    Ok(JwtKeys::from_secret(secret.as_bytes()))
}

fn spawn_token_sweeper(state: web::Data<AppState>) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(TOKEN_SWEEP_INTERVAL);
        loop {
            ticker.tick().await;
            let now = chrono::Utc::now().timestamp();
            match state.store.delete_expired_tokens(now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!("removed {n} expired tokens"),
                Err(e) => tracing::warn!("sweeping expired tokens failed: {e}"),
            }
        }
    });
}
