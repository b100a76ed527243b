//! The On-Prem error table (spec onprem-rest §4, onprem-messaging §8.3): every code with its title
//! and HTTP status, defined once. Handlers build an [`ApiError`] from a code and a `details` text;
//! the status comes from this table.

use serde::Serialize;

macro_rules! error_codes {
    ($( $variant:ident = $code:literal, $status:literal, $title:literal; )*) => {
        /// Every application error code the API can answer with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $( $variant, )* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The number clients match on.
            pub fn code(self) -> u32 { match self { $( ErrorCode::$variant => $code, )* } }

            /// The fixed title that accompanies the code.
            pub fn title(self) -> &'static str { match self { $( ErrorCode::$variant => $title, )* } }

            /// The HTTP status the webapp answers with when this is the first error.
            pub fn http_status(self) -> u16 { match self { $( ErrorCode::$variant => $status, )* } }

            pub fn from_code(code: u32) -> Option<ErrorCode> {
                match code { $( $code => Some(ErrorCode::$variant), )* _ => None }
            }
        }
    };
}

error_codes! {
    Undefined = 0, 500, "undefined";
    GenericError = 1000, 500, "Generic error";
    MessageTooLong = 1001, 400, "Message too long";
    InvalidRecipientType = 1002, 400, "Invalid recipient type";
    NotGroupParticipant = 1003, 400, "Not a group participant";
    ResourceAlreadyExists = 1004, 409, "Resource already exists";
    AccessDenied = 1005, 403, "Access denied";
    ResourceNotFound = 1006, 404, "Resource not found";
    RecipientBlocked = 1007, 403, "Recipient blocked to receive message";
    RequiredParameterMissing = 1008, 400, "Required parameter is missing";
    ParameterValueInvalid = 1009, 400, "Parameter value is not valid";
    ParameterNotRequired = 1010, 400, "Parameter is not required";
    ServiceNotReady = 1011, 500, "Service not ready";
    GroupUnknown = 1012, 404, "Group is unknown";
    UserNotValid = 1013, 400, "User is not valid";
    InternalError = 1014, 500, "Internal error";
    TooManyRequests = 1015, 429, "Too many requests";
    SystemOverloaded = 1016, 503, "System overloaded";
    NotPrimaryMaster = 1017, 500, "Not a primary master";
    NotPrimaryCoreapp = 1018, 500, "Not a primary coreapp";
    NotGroupAdmin = 1019, 400, "Not a group admin";
    BadGroup = 1020, 400, "Bad group";
    BadUser = 1021, 400, "Bad user";
    WebhooksUrlNotConfigured = 1022, 412, "Webhooks URL is not configured";
    DatabaseError = 1023, 500, "Database error occurred";
    PasswordChangeRequired = 1024, 401, "Password change required";
    RequestNotValid = 1025, 400, "Request is not valid";
    ReceiverIncapable = 1026, 501, "Receiver is incapable of receiving this message";
    IdentityChangeAckRequired = 1028, 400, "A user_identity_changed system notification requires acknowledgement";
    SenderAccountLocked = 1031, 403, "Sender account has been locked";
    TemplateParamCountMismatch = 2000, 400, "Number of parameters does not match the expected number of params";
    TemplateMissing = 2001, 404, "Template name does not exist in the translation";
    TemplateFetchFailed = 2002, 404, "Failed to find the translation for the requested language and locale";
    TemplatePackMissing = 2003, 404, "Could not find translation for the requested language and locale";
    TemplateParamTooLong = 2004, 400, "Parameter length too long";
    TemplateHydratedTextTooLong = 2005, 400, "Translated text too long";
    TemplateWhitespacePolicy = 2006, 400, "Template White Space Policy Violated";
    TemplateFormatCharacterPolicy = 2007, 400, "Template Format Character Policy Violated";
    TemplateMediaFormatUnsupported = 2008, 400, "Media format used is unsupported";
    TemplateRequiredComponentMissing = 2009, 400, "Template Required Component Missing";
    TemplateInvalidHydratedUrl = 2010, 400, "URL in button component is invalid";
    TemplateInvalidPhoneNumber = 2011, 400, "Phone Number in button component is invalid";
    TemplateParameterFormatMismatch = 2012, 400, "Template Parameter Format Mismatch";
    TemplateButtonsUnsupported = 2013, 501, "Buttons are unsupported by the receiver";
    ExpectedNamespaceEmpty = 2014, 400, "Expected Namespace is Empty";
    InvalidNumberOfSections = 2015, 400, "Invalid number of sections";
    InvalidNumberOfRows = 2016, 400, "Invalid number of rows";
    CharacterPolicyViolated = 2017, 400, "Character Policy Violated";
    InvalidNumberOfProducts = 2023, 400, "Invalid number of product";
    CatalogIdNotFound = 2024, 400, "Catalog ID not found";
    CatalogNotLinked = 2025, 400, "Catalog ID not linked to API number";
    MissingProducts = 2026, 400, "Missing products";
    NoProductsFound = 2027, 400, "No products found";
    AllProductsFailedCompliance = 2028, 400, "List all products failed compliance";
    SomeProductsFailedCompliance = 2029, 400, "List some products failed compliance";
    MixedProductsInvalid = 2030, 400, "List mixed products invalid and failed compliance";
    InvalidHeaderStructure = 2036, 400, "Invalid Header Structure";
    NotEngagedContact = 2048, 400, "Not engaged contact";
    MissingComplianceInfo = 2050, 400, "Missing Compliance Info";
    TemplateRejected = 2060, 400, "Template Rejected";
    TemplatePaused = 2061, 400, "Template Paused";
    TemplateDisabled = 2062, 400, "Template Disabled";
    FlowBlocked = 2068, 400, "Flow is blocked";
    FlowThrottled = 2069, 400, "Flow is throttled";
}

/// One error object as it appears in `errors[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ErrorObject {
    pub code: u32,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
}

/// An error answer: one or more error objects and the HTTP status of the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub errors: Vec<ErrorObject>,
    /// Extra response headers, e.g. `WWW-Authenticate` on failed logins.
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    /// The usual case: status taken from the error table.
    pub fn new(code: ErrorCode, details: impl Into<String>) -> Self {
        Self::with_status(code.http_status(), code, details)
    }

    /// The On-Prem webapp answers a few errors with a status that differs from the code's table
    /// entry (401 with 1005 for bad credentials, 405 with 1014 for a wrong method). Those cases use
    /// the named constructors below, which are the only callers of this function.
    fn with_status(status: u16, code: ErrorCode, details: impl Into<String>) -> Self {
        let details = details.into();
        ApiError {
            status,
            errors: vec![ErrorObject {
                code: code.code(),
                title: code.title().to_string(),
                details: (!details.is_empty()).then_some(details),
                href: None,
            }],
            headers: Vec::new(),
        }
    }

    /// Missing, malformed, forged, expired or revoked credentials: 401 with code 1005.
    pub fn unauthorized(details: impl Into<String>) -> Self {
        Self::with_status(401, ErrorCode::AccessDenied, details)
    }

    /// A known path called with a method it does not route.
    pub fn method_not_allowed() -> Self {
        Self::with_status(405, ErrorCode::InternalError, "Method not allowed")
    }

    pub fn not_found_path() -> Self {
        Self::new(ErrorCode::ResourceNotFound, "URL path not found")
    }

    pub fn forbidden() -> Self {
        Self::new(ErrorCode::AccessDenied, "User doesn't have permission")
    }

    pub fn missing_parameter(name: &str) -> Self {
        Self::new(
            ErrorCode::RequiredParameterMissing,
            format!("Missing mandatory parameter '{name}'"),
        )
    }

    /// 1009 naming the parameter and echoing its value, cut by [`echoed`].
    pub fn invalid_parameter(name: &str, value: &str) -> Self {
        Self::new(
            ErrorCode::ParameterValueInvalid,
            format!("Parameter '{name}' has invalid value '{}'", echoed(value)),
        )
    }

    pub fn invalid_json() -> Self {
        Self::new(
            ErrorCode::RequestNotValid,
            "Unable to decode json from the request: Syntax error",
        )
    }

    pub fn internal(details: impl Into<String>) -> Self {
        Self::new(ErrorCode::InternalError, details)
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The first error's code, which decides the status and what clients usually match on.
    pub fn first_code(&self) -> u32 {
        self.errors.first().map_or(0, |e| e.code)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for e in &self.errors {
            write!(f, "{} {}", e.code, e.title)?;
            if let Some(d) = &e.details {
                write!(f, ": {d}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

#[cfg(feature = "actix")]
mod actix {
    use super::ApiError;
    use crate::envelope::{ErrorBody, Meta};
    use actix_web::http::StatusCode;
    use actix_web::{HttpResponse, ResponseError};

    impl ResponseError for ApiError {
        fn status_code(&self) -> StatusCode {
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }

        fn error_response(&self) -> HttpResponse {
            let mut response = HttpResponse::build(self.status_code());
            for (name, value) in &self.headers {
                response.insert_header((*name, value.as_str()));
            }
            response.json(ErrorBody {
                errors: &self.errors,
                meta: Meta::current_webapp(),
            })
        }
    }
}

/// At most this many characters of a client's value are echoed in an error's details: enough to
/// recognise it, and a megabyte-long `to` is not sent back whole.
pub const MAX_ECHOED_CHARS: usize = 128;

/// `value` as error details quote it: whole when short, else its first [`MAX_ECHOED_CHARS`]
/// characters followed by `...`.
pub fn echoed(value: &str) -> std::borrow::Cow<'_, str> {
    match value.char_indices().nth(MAX_ECHOED_CHARS) {
        None => std::borrow::Cow::Borrowed(value),
        Some((cut, _)) => std::borrow::Cow::Owned(format!("{}...", &value[..cut])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_echoed_value_is_cut_at_128_characters() {
        assert_eq!(echoed("short"), "short");
        let exact = "é".repeat(MAX_ECHOED_CHARS);
        assert_eq!(echoed(&exact), exact);
        let long = "x".repeat(900_000);
        let error = ApiError::invalid_parameter("to", &long);
        let details = error.to_string();
        assert!(details.len() < 300, "{} bytes", details.len());
        assert!(details.contains(&format!("'{}...'", "x".repeat(MAX_ECHOED_CHARS))));
    }

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.code()), "duplicate code {}", code.code());
            assert_eq!(ErrorCode::from_code(code.code()), Some(*code));
        }
    }

    #[test]
    fn table_matches_the_spec_for_the_webapp_codes() {
        assert_eq!(ErrorCode::AccessDenied.http_status(), 403);
        assert_eq!(ErrorCode::ResourceNotFound.http_status(), 404);
        assert_eq!(ErrorCode::TooManyRequests.http_status(), 429);
        assert_eq!(ErrorCode::SystemOverloaded.http_status(), 503);
        assert_eq!(ErrorCode::WebhooksUrlNotConfigured.http_status(), 412);
        assert_eq!(ErrorCode::PasswordChangeRequired.http_status(), 401);
        assert_eq!(ErrorCode::ReceiverIncapable.http_status(), 501);
        assert_eq!(ErrorCode::RequestNotValid.title(), "Request is not valid");
    }

    /// The spec leaves 2024 and 2027 at "400/404"; we answer 400 like the rest of 2023–2030
    /// (docs/compatibility.md).
    #[test]
    fn catalog_codes_are_400_and_unsupported_buttons_501() {
        for code in 2023..=2030 {
            let code = ErrorCode::from_code(code).unwrap();
            assert_eq!(code.http_status(), 400, "{code:?}");
        }
        assert_eq!(ErrorCode::TemplateButtonsUnsupported.http_status(), 501);
        assert_eq!(ErrorCode::TemplateFormatCharacterPolicy.http_status(), 400);
    }

    #[test]
    fn empty_details_are_omitted() {
        let e = ApiError::new(ErrorCode::InternalError, "");
        let json = serde_json::to_value(&e.errors[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": 1014, "title": "Internal error"})
        );
    }
}
