//! Names under which webapp and coreapp share values in the database (`config_values` rows,
//! generated secrets and blobs). One definition, so the two sides cannot spell a key differently.
//!
//! Which stored values are secret is decided here too ([`SEALED`]); the store seals those with the
//! installation's secrets key, as it does every generated secret, every TLS private key and the
//! network credentials of the registration.

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
/// The Cloud API webhook subscription (`wa_api::cloud::subscription::CloudWebhooks` as JSON).
pub const CLOUD_WEBHOOKS: &str = "cloud.webhooks";

/// The `config_values` that are sealed at rest: they hold a PIN, passwords or the Cloud webhook
/// verify token. Every other value is plain (the webhook CA bundle holds certificates only, which
/// are public). A value stored plain before its key was listed here is read as it is and sealed
/// by the next reseal.
pub const SEALED: &[&str] = &[TWO_STEP_PIN, MEDIA_PROVIDERS, CLOUD_WEBHOOKS];

/// Generated secret (always sealed): the key webapps sign and verify bearer tokens with, unless
/// `WA_WEB_JWT_CRYPTO_KEY` sets one.
pub const JWT_SIGNING_KEY: &str = "webapp_jwt_key";

/// Generated secret (always sealed): the Cloud API app secret, which signs webhooks
/// (`X-Hub-Signature-256`).
pub const CLOUD_APP_SECRET: &str = "cloud_app_secret";

/// Blob: the profile photo, as uploaded.
pub const PROFILE_PHOTO_BLOB: &str = "profile.photo";
