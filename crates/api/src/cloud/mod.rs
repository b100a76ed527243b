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

/// The value of `messaging_product` in every Cloud body, asked and answered.
pub const MESSAGING_PRODUCT: &str = "whatsapp";

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
