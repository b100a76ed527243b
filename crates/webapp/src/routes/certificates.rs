//! Certificates (spec onprem-rest §8.11): the webapp's own HTTPS certificate (stored here, served
//! at once through the certificate resolver) and the CA bundle the coreapp's webhook client trusts
//! (relayed to the coreapp, which applies it without a restart). Bodies are PEM text, not JSON.

use crate::auth::AuthUser;
use crate::routes::forward::relay;
use crate::state::AppState;
use crate::tls::{self, CertResolver};
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use rustls::pki_types::pem::SectionKind;
use serde_json::json;
use wa_api::envelope::meta_only;
use wa_api::rpc::Endpoint;
use wa_api::{ApiError, ErrorCode, Meta};
use wa_store::StoredCert;

/// `POST /v1/certificates/external`: private key, certificate, then at least one CA certificate.
pub async fn set_external(
    caller: AuthUser,
    state: web::Data<AppState>,
    resolver: web::Data<CertResolver>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let text = read_text(body, state.settings.webapp.max_body_bytes).await?;
    let cert = parse_upload(&text)?;
    let key = tls::certified_key(&cert).map_err(|e| {
        ApiError::new(
            ErrorCode::ParameterValueInvalid,
            format!("Invalid certificate: {e}"),
        )
    })?;
    state
        .store
        .replace_cert(&state.settings.webapp.server_name, tls::EXTERNAL, cert)
        .await
        .map_err(|e| {
            tracing::error!("storing the uploaded certificate failed: {e}");
            ApiError::new(
                ErrorCode::GenericError,
                "Updating certificate in database failed",
            )
        })?;
    resolver.set(key);
    tracing::info!("installed the uploaded HTTPS certificate; new connections use it");
    Ok(HttpResponse::Created().json(meta_only(Meta::current_webapp())))
}

/// `GET /v1/certificates/external/ca`: the CA of the certificate being served.
pub async fn external_ca(
    _caller: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let server_name = &state.settings.webapp.server_name;
    let cert = tls::load_serving(&state.store, server_name)
        .await
        .map_err(|e| ApiError::internal(format!("Unable to read the certificate: {e}")))?;
    if cert.ca_pem.trim().is_empty() {
        return Err(ApiError::new(
            ErrorCode::ResourceNotFound,
            "No CA certificate found",
        ));
    }
    Ok(pem_response(cert.ca_pem))
}

pub async fn get_webhook_ca(
    caller: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let answer = state.call(Endpoint::WebhookCaGet, None).await?;
    match answer.body.get("pem").and_then(serde_json::Value::as_str) {
        Some(pem) if answer.status == 200 => Ok(pem_response(pem.to_string())),
        _ => Ok(relay(answer)),
    }
}

pub async fn set_webhook_ca(
    caller: AuthUser,
    state: web::Data<AppState>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let text = read_text(body, state.settings.webapp.max_body_bytes).await?;
    let answer = state
        .call(Endpoint::WebhookCaSet, Some(&json!({ "pem": text })))
        .await?;
    Ok(relay(answer))
}

pub async fn delete_webhook_ca(
    caller: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let answer = state.call(Endpoint::WebhookCaDelete, None).await?;
    Ok(relay(answer))
}

fn pem_response(pem: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain;charset=UTF-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"ca.pem\"",
        ))
        .body(pem)
}

/// The body as text; empty → 400/1009 `Request had no (empty) content`.
async fn read_text(mut body: web::Payload, limit: usize) -> Result<String, ApiError> {
    let bytes = crate::body::read_body(&mut body, limit, || crate::body::too_large(limit)).await?;
    let text = String::from_utf8(bytes).map_err(|_| {
        ApiError::new(
            ErrorCode::ParameterValueInvalid,
            "Certificates must be PEM text",
        )
    })?;
    if text.trim().is_empty() {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            "Request had no (empty) content",
        ));
    }
    Ok(text)
}

/// Sections in the documented order: private key, certificate, then one or more CA certificates.
fn parse_upload(text: &str) -> Result<StoredCert, ApiError> {
    let sections = tls::pem_sections(text).map_err(|e| {
        ApiError::new(
            ErrorCode::ParameterValueInvalid,
            format!("Invalid certificate: {e}"),
        )
    })?;
    let wrong = || {
        ApiError::new(
            ErrorCode::ParameterValueInvalid,
            "Certificate must contain private key, cert and at least one CA certificate sections",
        )
    };
    let [(key_kind, key_der), (cert_kind, cert_der), cas @ ..] = sections.as_slice() else {
        return Err(wrong());
    };
    let Some(key_label) = tls::private_key_label(*key_kind) else {
        return Err(wrong());
    };
    let certificate = |kind: &SectionKind| *kind == SectionKind::Certificate;
    if !certificate(cert_kind) || cas.is_empty() || !cas.iter().all(|(kind, _)| certificate(kind)) {
        return Err(wrong());
    }
    Ok(StoredCert {
        cert_pem: tls::to_pem("CERTIFICATE", cert_der),
        key_pem: tls::to_pem(key_label, key_der),
        ca_pem: cas
            .iter()
            .map(|(_, der)| tls::to_pem("CERTIFICATE", der))
            .collect(),
    })
}
