//! The Cloud error codes we answer with, and THE table from our On-Prem codes to them: every
//! situation the core detects gets the Cloud code Meta documents for the same situation
//! (docs/compatibility.md, "Cloud API", lists the choices where Meta's reference is silent).

use crate::ErrorCode;

/// The Graph `error.type` of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudErrorType {
    /// What Meta answers for nearly every Cloud error, tokens and messaging alike.
    OAuthException,
    /// An id that names no object this caller may use (code 100, subcode 33).
    GraphMethodException,
}

impl CloudErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            CloudErrorType::OAuthException => "OAuthException",
            CloudErrorType::GraphMethodException => "GraphMethodException",
        }
    }
}

macro_rules! cloud_codes {
    ($( $variant:ident = $code:literal, $status:literal, $title:literal; )*) => {
        /// Every Cloud error code the Cloud surface can answer with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum CloudCode { $( $variant, )* }

        impl CloudCode {
            pub const ALL: &'static [CloudCode] = &[ $( CloudCode::$variant, )* ];

            /// The number integrations match on.
            pub fn code(self) -> u32 { match self { $( CloudCode::$variant => $code, )* } }

            /// The title, shown in `message` as `(#code) title`.
            pub fn title(self) -> &'static str { match self { $( CloudCode::$variant => $title, )* } }

            /// The HTTP status of a synchronous answer with this code.
            pub fn http_status(self) -> u16 { match self { $( CloudCode::$variant => $status, )* } }
        }
    };
}

cloud_codes! {
    InvalidParameter = 100, 400, "Invalid parameter";
    InvalidToken = 190, 401, "Invalid OAuth access token";
    ThroughputReached = 130429, 429, "Rate limit hit";
    ExperimentNumber = 130472, 400, "User's number is part of an experiment";
    GenericError = 131000, 500, "Something went wrong";
    AccessDenied = 131005, 403, "Access denied";
    RequiredParameterMissing = 131008, 400, "Required parameter is missing";
    ParameterValueInvalid = 131009, 400, "Parameter value is not valid";
    ServiceUnavailable = 131016, 503, "Service unavailable";
    RecipientIsSender = 131021, 400, "Recipient cannot be sender";
    Undeliverable = 131026, 400, "Message undeliverable";
    AccountLocked = 131031, 403, "Business account locked";
    ReEngagement = 131047, 400, "Re-engagement message";
    SpamRateLimit = 131048, 429, "Spam rate limit hit";
    EcosystemEngagement = 131049, 400, "Message not delivered to maintain healthy ecosystem engagement";
    UnsupportedMessageType = 131051, 400, "Unsupported message type";
    MediaUploadError = 131053, 400, "Media upload error";
    PairRateLimit = 131056, 429, "(Business Account, Consumer Account) pair rate limit hit";
    TemplateParamCountMismatch = 132000, 400, "Number of parameters does not match the expected number of params";
    TemplateMissing = 132001, 404, "Template name does not exist in the translation";
    TemplateTextTooLong = 132005, 400, "Translated text too long";
    TemplateFormatPolicy = 132007, 400, "Template Format Character Policy Violated";
    TemplateParameterFormat = 132012, 400, "Template Parameter Format Mismatch";
    TemplatePaused = 132015, 400, "Template is Paused";
    TemplateDisabled = 132016, 400, "Template is Disabled";
    FlowBlocked = 132068, 400, "Flow is in blocked state";
    FlowThrottled = 132069, 400, "Flow is in throttled state";
    PinMismatch = 133005, 400, "Two step verification PIN Mismatch";
    NotRegistered = 133010, 400, "Phone number not registered";
    GenericUserError = 135000, 400, "Generic user error";
}

/// Codes that only status webhooks carry (the network's refusals); they are no [`ErrorCode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusErrorCode {
    MessageNotValid = 408,
    MessageExpired = 410,
    RateLimitHit = 429,
    ReEngagement = 470,
    SpamRateLimit = 471,
    ExperimentNumber = 472,
}

impl StatusErrorCode {
    pub const ALL: &'static [StatusErrorCode] = &[
        StatusErrorCode::MessageNotValid,
        StatusErrorCode::MessageExpired,
        StatusErrorCode::RateLimitHit,
        StatusErrorCode::ReEngagement,
        StatusErrorCode::SpamRateLimit,
        StatusErrorCode::ExperimentNumber,
    ];

    pub fn from_code(code: u32) -> Option<StatusErrorCode> {
        Self::ALL.iter().copied().find(|c| *c as u32 == code)
    }
}

impl CloudCode {
    /// THE table: the Cloud code of any On-Prem code we answer or report, an [`ErrorCode`] of a
    /// synchronous answer or a [`StatusErrorCode`] of a failed status. The network reports a few
    /// refusals On-Prem has no code for with Cloud's own code (131049, the marketing limit): such
    /// a code stays. Anything else is 131000.
    pub fn for_onprem(code: u32) -> CloudCode {
        if let Some(status) = StatusErrorCode::from_code(code) {
            return Self::for_status_error(status);
        }
        if let Some(error) = ErrorCode::from_code(code) {
            return Self::for_error(error);
        }
        CloudCode::ALL
            .iter()
            .copied()
            .find(|cloud| cloud.code() == code)
            .unwrap_or(CloudCode::GenericError)
    }

    fn for_status_error(code: StatusErrorCode) -> CloudCode {
        use StatusErrorCode as S;
        match code {
            // Not delivered within its time to live: undeliverable, as Meta reports it.
            S::MessageNotValid | S::MessageExpired => CloudCode::Undeliverable,
            // The network's per-recipient limit: pair rate limit.
            S::RateLimitHit => CloudCode::PairRateLimit,
            S::ReEngagement => CloudCode::ReEngagement,
            S::SpamRateLimit => CloudCode::SpamRateLimit,
            S::ExperimentNumber => CloudCode::ExperimentNumber,
        }
    }

    /// Exhaustive, so a new On-Prem code cannot be added without choosing its Cloud code.
    fn for_error(code: ErrorCode) -> CloudCode {
        use CloudCode as C;
        use ErrorCode as E;
        match code {
            E::Undefined
            | E::GenericError
            | E::InternalError
            | E::DatabaseError
            | E::NotPrimaryMaster
            | E::NotPrimaryCoreapp => C::GenericError,
            E::ServiceNotReady => C::ServiceUnavailable,
            E::TooManyRequests | E::SystemOverloaded => C::ThroughputReached,
            E::AccessDenied => C::AccessDenied,
            E::PasswordChangeRequired => C::InvalidToken,
            E::SenderAccountLocked => C::AccountLocked,
            // Shapes Cloud validates as Graph parameters: invalid JSON, a wrong recipient type,
            // an unexpected field, groups (no Cloud feature), a namespace (no Cloud field).
            E::RequestNotValid
            | E::InvalidRecipientType
            | E::ParameterNotRequired
            | E::ResourceAlreadyExists
            | E::ResourceNotFound
            | E::NotGroupParticipant
            | E::GroupUnknown
            | E::NotGroupAdmin
            | E::BadGroup
            | E::ExpectedNamespaceEmpty
            | E::MessageTooLong => C::InvalidParameter,
            E::RequiredParameterMissing | E::TemplateRequiredComponentMissing => {
                C::RequiredParameterMissing
            }
            E::ParameterValueInvalid
            | E::TemplateInvalidHydratedUrl
            | E::TemplateInvalidPhoneNumber
            | E::InvalidNumberOfSections
            | E::InvalidNumberOfRows
            | E::CharacterPolicyViolated
            | E::InvalidNumberOfProducts
            | E::CatalogIdNotFound
            | E::CatalogNotLinked
            | E::MissingProducts
            | E::NoProductsFound
            | E::AllProductsFailedCompliance
            | E::SomeProductsFailedCompliance
            | E::MixedProductsInvalid
            | E::InvalidHeaderStructure
            | E::MissingComplianceInfo => C::ParameterValueInvalid,
            E::UserNotValid
            | E::RecipientBlocked
            | E::ReceiverIncapable
            | E::TemplateButtonsUnsupported => C::Undeliverable,
            E::BadUser => C::RecipientIsSender,
            E::WebhooksUrlNotConfigured | E::IdentityChangeAckRequired => C::GenericUserError,
            E::NotEngagedContact => C::EcosystemEngagement,
            E::TemplateParamCountMismatch => C::TemplateParamCountMismatch,
            E::TemplateMissing
            | E::TemplateFetchFailed
            | E::TemplatePackMissing
            | E::TemplateRejected => C::TemplateMissing,
            E::TemplateParamTooLong | E::TemplateHydratedTextTooLong => C::TemplateTextTooLong,
            E::TemplateWhitespacePolicy | E::TemplateFormatCharacterPolicy => {
                C::TemplateFormatPolicy
            }
            E::TemplateMediaFormatUnsupported => C::MediaUploadError,
            E::TemplateParameterFormatMismatch => C::TemplateParameterFormat,
            E::TemplatePaused => C::TemplatePaused,
            E::TemplateDisabled => C::TemplateDisabled,
            E::FlowBlocked => C::FlowBlocked,
            E::FlowThrottled => C::FlowThrottled,
        }
    }

    /// The Graph `type`: OAuthException throughout, as Meta answers.
    pub fn error_type(self) -> CloudErrorType {
        CloudErrorType::OAuthException
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_situations_of_issue_20_get_their_cloud_codes() {
        let cases = [
            (470, 131047, 400),
            (1013, 131026, 400),
            (1015, 130429, 429),
            (429, 131056, 429),
            (471, 131048, 429),
            (2001, 132001, 404),
            (2061, 132015, 400),
            (2000, 132000, 400),
            (1008, 131008, 400),
            (1009, 131009, 400),
            (1025, 100, 400),
            (1014, 131000, 500),
            (1021, 131021, 400),
            (99_999, 131000, 500),
            (131049, 131049, 400),
        ];
        for (onprem, cloud, status) in cases {
            let code = CloudCode::for_onprem(onprem);
            assert_eq!(
                (code.code(), code.http_status()),
                (cloud, status),
                "{onprem}"
            );
        }
    }

    #[test]
    fn cloud_codes_are_unique_and_every_onprem_code_has_one() {
        let mut seen = std::collections::HashSet::new();
        for code in CloudCode::ALL {
            assert!(seen.insert(code.code()), "duplicate {}", code.code());
        }
        for code in ErrorCode::ALL {
            let cloud = CloudCode::for_onprem(code.code());
            assert!(CloudCode::ALL.contains(&cloud));
        }
        for code in StatusErrorCode::ALL {
            assert_eq!(StatusErrorCode::from_code(*code as u32), Some(*code));
        }
    }
}
