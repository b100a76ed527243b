//! The TLS identity of the protocol listener: a CA and a server certificate generated at start.

use std::io;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// The server name in wanet's certificate; clients that trust [`TlsIdentity::ca_pem`] must use it
/// as the TLS server name.
pub const SERVER_NAME: &str = "wanet";

pub struct TlsIdentity {
    /// Clients verify the server against this CA (served at `GET /control/ca`).
    pub ca_pem: String,
    pub acceptor: TlsAcceptor,
}

/// Generates fresh material: nothing on disk to manage, and clients fetch the CA from the
/// control API (or skip verification on loopback).
pub fn generate() -> io::Result<TlsIdentity> {
    let generated = wa_common::tls::generate_self_signed(SERVER_NAME).map_err(io::Error::other)?;
    let chain = format!("{}{}", generated.cert_pem, generated.ca_pem);
    let config =
        wa_common::tls::server_config(&chain, &generated.key_pem).map_err(io::Error::other)?;
    Ok(TlsIdentity {
        ca_pem: generated.ca_pem,
        acceptor: TlsAcceptor::from(Arc::new(config)),
    })
}
