//! Backup and restore (spec onprem-rest §8.10): everything needed to recreate this installation
//! (application settings, profile, business profile, compliance info, two-step PIN, webhook CA,
//! registration credentials), without messages or pending callbacks, encrypted with a password.
//!
//! The blob is base64 of `MAGIC | salt (16) | nonce (12) | AES-256-GCM ciphertext`, the key derived
//! from the password and the salt with Argon2id. GCM authenticates the data, so a wrong password
//! and a damaged blob are both detected before anything is written.

use crate::state::settings::SettingsHandle;
use crate::state::CoreState;
use crate::util::body::body_object;
use crate::util::body::required_str;
use crate::util::failure::store_failure;
use actix_web::{web, HttpResponse};
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use wa_api::envelope::{meta_only, payload};
use wa_api::keys::{
    APPLICATION_SETTINGS as APPLICATION_SETTINGS_KEY, BUSINESS_PROFILE, COMPLIANCE_INFO,
    PROFILE_ABOUT, PROFILE_PHOTO_BLOB, TWO_STEP_PIN, WEBHOOK_CA,
};
use wa_api::{ApiError, ErrorCode, Meta};
use wa_store::Registration;

/// Identifies our backups and their format version.
const MAGIC: &[u8] = b"ORSB1";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
/// The webhook CA bundle (`/v1/certificates/webhooks/ca`), kept with the other settings.
/// The `config_values` a backup carries.
const BACKED_UP_VALUES: &[&str] = &[
    APPLICATION_SETTINGS_KEY,
    PROFILE_ABOUT,
    BUSINESS_PROFILE,
    COMPLIANCE_INFO,
    TWO_STEP_PIN,
    WEBHOOK_CA,
];

#[derive(Serialize, Deserialize)]
struct BackupContent {
    values: BTreeMap<String, String>,
    /// Base64 of the profile photo.
    photo: Option<String>,
    registration: StoredRegistration,
}

#[derive(Serialize, Deserialize)]
struct StoredRegistration {
    phone: String,
    vname: String,
    secret: String,
    registered_at: i64,
}

pub async fn backup(
    state: web::Data<CoreState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = body_object(&body)?;
    let password = required_str(&body, "password")?;
    check_password(password)?;
    let content = collect(&state).await?;
    let plain = serde_json::to_vec(&content)
        .map_err(|e| ApiError::internal(format!("Unable to encode the backup: {e}")))?;
    let data = off_the_async_threads(password, move |password| encrypt(&password, &plain)).await?;
    tracing::info!("backup exported ({} bytes)", data.len());
    Ok(HttpResponse::Ok().json(payload(
        "settings",
        serde_json::json!({ "data": data }),
        Meta::current_coreapp(),
    )))
}

pub async fn restore(
    state: web::Data<CoreState>,
    settings: web::Data<SettingsHandle>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = body_object(&body)?;
    let password = required_str(&body, "password")?;
    let data = required_str(&body, "data")?;
    let data = data.to_string();
    let plain = off_the_async_threads(password, move |password| decrypt(&password, &data)).await?;
    let content: BackupContent = serde_json::from_slice(&plain).map_err(|_| damaged())?;
    apply(&state, content).await?;
    settings.reload(&state.store).await.map_err(store_failure)?;
    state.load_webhook_ca().await.map_err(store_failure)?;
    state.load_cloud_webhooks().await.map_err(store_failure)?;
    tracing::info!("backup restored; reconnecting with the restored registration");
    state.registration_replaced();
    Ok(HttpResponse::Ok().json(meta_only(Meta::current_coreapp())))
}

fn check_password(password: &str) -> Result<(), ApiError> {
    if password.is_empty() {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            "Password must not be empty",
        ));
    }
    Ok(())
}

async fn collect(state: &CoreState) -> Result<BackupContent, ApiError> {
    let Some(registration) = state.store.registration().await.map_err(store_failure)? else {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            "Backup is only possible once a number is registered",
        ));
    };
    let mut values = BTreeMap::new();
    for key in BACKED_UP_VALUES {
        if let Some(value) = state
            .store
            .get_config_value(key)
            .await
            .map_err(store_failure)?
        {
            values.insert((*key).to_string(), value);
        }
    }
    let photo = state
        .store
        .get_blob(PROFILE_PHOTO_BLOB)
        .await
        .map_err(store_failure)?;
    Ok(BackupContent {
        values,
        photo: photo.map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes)),
        registration: StoredRegistration {
            phone: registration.phone,
            vname: registration.vname,
            secret: registration.secret,
            registered_at: registration.registered_at,
        },
    })
}

/// Writes the backup over this installation's settings. Values the backup does not have are
/// removed, so the result is the backed-up installation, not a mix.
async fn apply(state: &CoreState, content: BackupContent) -> Result<(), ApiError> {
    let store = &state.store;
    for key in BACKED_UP_VALUES {
        match content.values.get(*key) {
            Some(value) => store.put_config_value(key, value.clone()).await,
            None => store.delete_config_value(key).await.map(|_| ()),
        }
        .map_err(store_failure)?;
    }
    let photo = match content.photo {
        Some(text) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| damaged())?,
        ),
        None => None,
    };
    match photo {
        Some(bytes) => store.put_blob(PROFILE_PHOTO_BLOB, bytes).await,
        None => store.delete_blob(PROFILE_PHOTO_BLOB).await.map(|_| ()),
    }
    .map_err(store_failure)?;
    let r = content.registration;
    store
        .save_registration(Registration {
            phone: r.phone,
            vname: r.vname,
            secret: r.secret,
            registered_at: r.registered_at,
            deregistered_at: None,
        })
        .await
        .map_err(store_failure)
}

/// Runs `work` (Argon2 key derivation: deliberately slow, tens of milliseconds of CPU) on the
/// blocking pool, so it never holds up the async threads serving other calls.
async fn off_the_async_threads<T, F>(password: &str, work: F) -> Result<T, ApiError>
where
    F: FnOnce(String) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let password = password.to_string();
    tokio::task::spawn_blocking(move || work(password))
        .await
        .map_err(|e| ApiError::internal(format!("The backup task failed: {e}")))?
}

fn derive_key(password: &str, salt: &[u8]) -> Result<Aes256Gcm, ApiError> {
    let mut key = [0u8; 32];
    argon2::Argon2::default()
        .hash_password_into(password.as_bytes(), salt, &mut key)
        .map_err(|e| ApiError::internal(format!("Key derivation failed: {e}")))?;
    Aes256Gcm::new_from_slice(&key).map_err(|_| ApiError::internal("Key derivation failed"))
}

fn encrypt(password: &str, plain: &[u8]) -> Result<String, ApiError> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    rand::thread_rng().fill_bytes(&mut salt);
    rand::thread_rng().fill_bytes(&mut nonce);
    let cipher = derive_key(password, &salt)?;
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), plain)
        .map_err(|_| ApiError::internal("Encryption failed"))?;
    let blob = [MAGIC, &salt, &nonce, &sealed].concat();
    Ok(base64::engine::general_purpose::STANDARD.encode(blob))
}

fn decrypt(password: &str, data: &str) -> Result<Vec<u8>, ApiError> {
    let blob = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| damaged())?;
    let rest = blob.strip_prefix(MAGIC).ok_or_else(damaged)?;
    if rest.len() < SALT_LEN + NONCE_LEN + 16 {
        return Err(damaged());
    }
    let (salt, rest) = rest.split_at(SALT_LEN);
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    derive_key(password, salt)?
        .decrypt(Nonce::from_slice(nonce), sealed)
        .map_err(|_| {
            ApiError::new(
                ErrorCode::ParameterValueInvalid,
                "Unable to decrypt the backup: wrong password or damaged data",
            )
        })
}

fn damaged() -> ApiError {
    ApiError::new(
        ErrorCode::ParameterValueInvalid,
        "Backup data is damaged or not a backup of this software",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_failures() {
        let blob = encrypt("pass", b"hello").unwrap();
        assert_eq!(decrypt("pass", &blob).unwrap(), b"hello");
        assert_eq!(decrypt("wrong", &blob).unwrap_err().first_code(), 1009);
        assert_eq!(decrypt("pass", "!!!").unwrap_err().first_code(), 1009);
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(&blob)
            .unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert!(decrypt("pass", &tampered).is_err());
        assert!(decrypt("pass", &blob[..10]).is_err());
    }
}
