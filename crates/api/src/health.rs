//! `GET /v1/health` (spec onprem-rest §9.1).

use serde::{Deserialize, Serialize};

/// Whether the coreapp is connected to the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GatewayStatus {
    Connected,
    Connecting,
    Disconnected,
    Uninitialized,
    Unregistered,
}

/// The single-instance `health` object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    pub gateway_status: GatewayStatus,
}
