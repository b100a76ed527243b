//! The CA bundle the webhook client trusts besides the built-in roots (spec onprem-rest §8.11,
//! `/v1/certificates/webhooks/ca`). Stored in the database; the dispatcher picks a change up
//! before its next POST, so no restart is needed. The webapp relays the PEM text as JSON.

use crate::state::CoreState;
use crate::util::body::body_object;
use crate::util::failure::store_failure;
use actix_web::{web, HttpResponse};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use serde_json::{json, Value};
use wa_api::envelope::meta_only;
use wa_api::keys::WEBHOOK_CA as WEBHOOK_CA_KEY;
use wa_api::{ApiError, ErrorCode, Meta};

pub async fn get_ca(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    match state
        .store
        .get_config_value(WEBHOOK_CA_KEY)
        .await
        .map_err(store_failure)?
    {
        Some(pem) => Ok(HttpResponse::Ok().json(json!({ "pem": pem }))),
        None => Err(ApiError::new(
            ErrorCode::ResourceNotFound,
            "No webhook CA certificates found",
        )),
    }
}

pub async fn set_ca(
    state: web::Data<CoreState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = body_object(&body)?;
    let Some(Value::String(pem)) = body.get("pem") else {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            "Request had no (empty) content",
        ));
    };
    check_bundle(pem)?;
    state
        .store
        .put_config_value(WEBHOOK_CA_KEY, pem.clone())
        .await
        .map_err(store_failure)?;
    state.webhook_ca.send_replace(Some(pem.clone()));
    state.wake_dispatchers();
    tracing::info!("webhook CA bundle installed");
    Ok(HttpResponse::Ok().json(meta_only(Meta::current_coreapp())))
}

pub async fn delete_ca(state: web::Data<CoreState>) -> Result<HttpResponse, ApiError> {
    state
        .store
        .delete_config_value(WEBHOOK_CA_KEY)
        .await
        .map_err(store_failure)?;
    state.webhook_ca.send_replace(None);
    Ok(HttpResponse::Ok().json(meta_only(Meta::current_coreapp())))
}

/// One or more PEM certificates that parse as X.509, and nothing else.
fn check_bundle(pem: &str) -> Result<(), ApiError> {
    let invalid = |details: String| ApiError::new(ErrorCode::ParameterValueInvalid, details);
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("Invalid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(invalid("No PEM certificate found in the request".into()));
    }
    // Each must be usable as a trust anchor, as the webhook client will use it.
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| invalid(format!("Invalid certificate: {e}")))?;
    }
    Ok(())
}
