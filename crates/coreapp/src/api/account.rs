//! Registration (spec onprem-rest §7.1–7.2): `POST /v1/account` asks the network for a code,
//! `POST /v1/account/verify` submits it; the credentials the network issues are stored, and the
//! session is re-established with them.

use crate::state::CoreState;
use crate::util::body::body_object;
use crate::util::body::required_str;
use crate::util::failure::store_failure;
use crate::util::lock;
use actix_web::{web, HttpResponse};
use std::sync::Mutex;
use wa_api::envelope::{meta_only, payload};
use wa_api::{ApiError, ErrorCode, Meta};
use wa_netproto::{Request, Response};
use wa_store::Registration;

/// The number a code was requested for, waiting for `/v1/account/verify`.
#[derive(Default)]
pub struct PendingRegistration(Mutex<Option<(String, String)>>);

pub async fn request_code(
    state: web::Data<CoreState>,
    pending: web::Data<PendingRegistration>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = body_object(&body)?;
    let cc = digits_param(&body, "cc", 1..=3)?;
    let number = digits_param(&body, "phone_number", 4..=14)?;
    let method = required_str(&body, "method")?;
    if method != "sms" && method != "voice" {
        return Err(ApiError::invalid_parameter("method", method));
    }
    let cert = required_str(&body, "cert")?;
    let pin = match body.get("pin") {
        Some(serde_json::Value::String(pin)) => Some(pin.clone()),
        None | Some(serde_json::Value::Null) => None,
        Some(other) => return Err(ApiError::invalid_parameter("pin", &other.to_string())),
    };
    let phone = format!("{cc}{number}");
    let registered = state
        .store
        .registration()
        .await
        .map_err(store_failure)?
        .filter(|r| r.deregistered_at.is_none())
        .map(|r| r.phone);
    if !state.credentials_refused() && registered.as_deref() == Some(phone.as_str()) {
        // Already registered on this installation (and the network agrees): nothing to do. A
        // number deregistered through the Cloud API registers afresh.
        return Ok(HttpResponse::Created().json(meta_only(Meta::current_coreapp())));
    }
    let request = Request::RequestCode {
        cc: cc.to_string(),
        phone_number: number.to_string(),
        method: method.to_string(),
        cert: cert.to_string(),
        pin,
    };
    let session = state.session().ok_or_else(network_unreachable)?;
    match session.request(request).await.map_err(ApiError::from)? {
        Response::CodeSent { vname } => {
            *lock(&pending.0) = Some((cc.to_string(), number.to_string()));
            tracing::info!("registration code requested for +{phone} by {method}");
            let account = serde_json::json!([{ "vname": vname }]);
            Ok(HttpResponse::Accepted().json(payload("account", account, Meta::current_coreapp())))
        }
        other => Err(unexpected(&other)),
    }
}

pub async fn verify(
    state: web::Data<CoreState>,
    pending: web::Data<PendingRegistration>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = body_object(&body)?;
    let code = required_str(&body, "code")?;
    let Some((cc, number)) = lock(&pending.0).clone() else {
        return Err(ApiError::new(
            ErrorCode::AccessDenied,
            "No registration code was requested: call POST /v1/account first",
        ));
    };
    let session = state.session().ok_or_else(network_unreachable)?;
    let request = Request::Register {
        cc,
        phone_number: number,
        code: code.to_string(),
    };
    match session.request(request).await.map_err(ApiError::from)? {
        Response::Registered { vname, credentials } => {
            let registration = Registration {
                phone: credentials.phone.clone(),
                vname,
                secret: credentials.secret,
                registered_at: crate::util::now_ms() / 1000,
                deregistered_at: None,
            };
            state
                .store
                .save_registration(registration)
                .await
                .map_err(store_failure)?;
            *lock(&pending.0) = None;
            tracing::info!(
                "registered +{}; connecting with the new credentials",
                credentials.phone
            );
            state.registration_replaced();
            Ok(HttpResponse::Created().json(meta_only(Meta::current_coreapp())))
        }
        other => Err(unexpected(&other)),
    }
}

fn digits_param<'a>(
    body: &'a serde_json::Map<String, serde_json::Value>,
    name: &str,
    lengths: std::ops::RangeInclusive<usize>,
) -> Result<&'a str, ApiError> {
    let value = required_str(body, name)?;
    if !lengths.contains(&value.len()) || !value.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::invalid_parameter(name, value));
    }
    Ok(value)
}

fn network_unreachable() -> ApiError {
    ApiError::internal("The coreapp is not connected to the WhatsApp network; retry in a moment")
}

fn unexpected(response: &Response) -> ApiError {
    tracing::error!("unexpected answer from the network: {response:?}");
    ApiError::internal("Unexpected answer from the network")
}
