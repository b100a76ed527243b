//! The internal RPC between webapp and coreapp: HTTP/JSON on the coreapp's port (6250 by
//! default). Paths and bodies live here so both sides agree at compile time.

use crate::health::GatewayStatus;
use serde::{Deserialize, Serialize};

/// `GET` — the coreapp's connection state.
pub const GATEWAY_STATUS_PATH: &str = "/rpc/gateway_status";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GatewayStatusReply {
    pub gateway_status: GatewayStatus,
}
