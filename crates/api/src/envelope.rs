//! The common response envelope (spec onprem-rest §3): payload keys, `meta`, and `errors`.

use crate::error::ErrorObject;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The default build version we report: the last On-Prem release line. Configurable (`WA_VERSION`).
pub const DEFAULT_VERSION: &str = "v2.57.2";

static VERSION: OnceLock<String> = OnceLock::new();

/// Sets the version reported in every `meta`. Called once at start-up; later calls are ignored
/// so that the value cannot change under running requests.
pub fn set_version(version: &str) {
    let normalised = format!("v{}", version.trim_start_matches('v'));
    let _ = VERSION.set(normalised);
}

fn version() -> &'static str {
    VERSION.get().map_or(DEFAULT_VERSION, String::as_str)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub api_status: String,
    pub version: String,
}

impl Meta {
    /// The meta the webapp builds itself (login, users, metrics, webapp-side errors): `v`-prefixed,
    /// like the original's `WA_VERSION`.
    pub fn current_webapp() -> Meta {
        Meta {
            api_status: "stable".into(),
            version: version().to_string(),
        }
    }

    /// The meta of coreapp-backed answers (health, settings, account): the bare version, as the
    /// original coreapp reported it.
    pub fn current_coreapp() -> Meta {
        Meta {
            api_status: "stable".into(),
            version: version().trim_start_matches('v').to_string(),
        }
    }
}

/// Body of an error answer.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub errors: &'a [ErrorObject],
    pub meta: Meta,
}

/// Builds a success body: one payload key next to `meta`.
pub fn payload(key: &str, value: impl Serialize, meta: Meta) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    body.insert(
        key.to_string(),
        serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
    );
    body.insert("meta".into(), meta_value(meta));
    serde_json::Value::Object(body)
}

/// A success body with nothing to return but `meta`.
pub fn meta_only(meta: Meta) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    body.insert("meta".into(), meta_value(meta));
    serde_json::Value::Object(body)
}

fn meta_value(meta: Meta) -> serde_json::Value {
    serde_json::json!({ "api_status": meta.api_status, "version": meta.version })
}
