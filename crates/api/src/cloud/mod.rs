//! The Cloud API's request surface on the same core (issue 20): its error envelope and the one
//! table from On-Prem codes to Cloud codes, the Graph-style ids of the number and the business
//! account, and the translation of a Cloud send into the On-Prem send the coreapp answers.

pub mod codes;
pub mod error;
pub mod ids;
pub mod profile;
pub mod registration;
pub mod send;
pub mod subscription;
pub mod templates;
pub mod webhooks;

pub use codes::{CloudCode, CloudErrorType};
pub use error::CloudError;

use serde_json::{Map, Value};

/// The value of `messaging_product` in every Cloud body, asked and answered.
pub const MESSAGING_PRODUCT: &str = "whatsapp";

/// 100 unless the body's `messaging_product` is `whatsapp`, in Graph's two wordings.
pub fn check_messaging_product(body: &Map<String, Value>) -> Result<(), CloudError> {
    match body.get("messaging_product") {
        Some(Value::String(product)) if product == MESSAGING_PRODUCT => Ok(()),
        None | Some(Value::Null) => Err(CloudError::invalid_parameter(
            "The parameter messaging_product is required.",
        )),
        Some(_) => Err(CloudError::invalid_parameter(
            "Param messaging_product must be one of {WHATSAPP} - got an unknown value.",
        )),
    }
}

/// The first segment of every Cloud path as an actix route template: any `vN.N` version.
pub const VERSION_SEGMENT: &str = r"{version:v[0-9]+\.[0-9]+}";

/// The send endpoint's route template after the version segment.
pub const MESSAGES_PATH: &str = "/{object_id}/messages";

/// Whether a route template is a Cloud path.
pub fn is_cloud_template(template: &str) -> bool {
    cloud_path_of(template).is_some()
}

/// A Cloud route template without its version segment (`/{object_id}/messages`).
pub fn cloud_path_of(template: &str) -> Option<&str> {
    template.strip_prefix('/')?.strip_prefix(VERSION_SEGMENT)
}
