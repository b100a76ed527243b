//! Registration codes the network has sent and not yet seen used.

use serde::Serialize;

/// An outstanding code, readable at `GET /control/codes/{phone}`.
#[derive(Debug, Clone, Serialize)]
pub struct CodeRequest {
    pub phone: String,
    pub code: String,
    pub method: String,
    #[serde(skip)]
    pub vname: String,
}
