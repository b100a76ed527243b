//! Names under which webapp and coreapp share values in the database (`config_values` rows and
//! blobs). One definition, so the two sides cannot spell a key differently.

/// The application settings, as the JSON of `GET /v1/settings/application`.
pub const APPLICATION_SETTINGS: &str = "application";
/// The media providers of `/v1/settings/application/media/providers` (written by the webapp,
/// read by the coreapp when a send names a provider).
pub const MEDIA_PROVIDERS: &str = "media_providers";
/// The profile's about text.
pub const PROFILE_ABOUT: &str = "profile.about";
/// The business profile (address, description, email, vertical, websites).
pub const BUSINESS_PROFILE: &str = "business.profile";
/// The business compliance information.
pub const COMPLIANCE_INFO: &str = "business.compliance_info";
/// The two-step verification PIN.
pub const TWO_STEP_PIN: &str = "account.two_step_pin";
/// The Multiconnect shard count (`POST /v1/account/shards`); absent means 1.
pub const SHARD_COUNT: &str = "account.shards";
/// The CA bundle webhooks trust besides the built-in roots.
pub const WEBHOOK_CA: &str = "certificates.webhooks_ca";

/// Blob: the profile photo, as uploaded.
pub const PROFILE_PHOTO_BLOB: &str = "profile.photo";
