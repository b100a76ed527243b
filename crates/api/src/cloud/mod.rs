//! The Cloud API's request surface on the same core (issue 20): its error envelope and the one
//! table from On-Prem codes to Cloud codes, the Graph-style ids of the number and the business
//! account, and the translation of a Cloud send into the On-Prem send the coreapp answers.

pub mod codes;
pub mod error;
pub mod ids;
pub mod send;

pub use codes::{CloudCode, CloudErrorType};
pub use error::CloudError;

/// The value of `messaging_product` in every Cloud body, asked and answered.
pub const MESSAGING_PRODUCT: &str = "whatsapp";
