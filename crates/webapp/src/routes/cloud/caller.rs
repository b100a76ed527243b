//! What every Cloud handler checks first, answered in the Cloud envelope: the bearer token (the
//! product's own tokens: from `POST /v1/users/login`, or long-lived ones an administrator
//! created, see `auth.rs`), the JSON body, and the ids of the path against the registered number.

use crate::auth::AuthUser;
use crate::body::JsonParams;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Map, Value};
use wa_api::cloud::{ids, CloudError};
use wa_api::ApiError;

/// The caller, or 190 OAuthException 401 for a missing, malformed, expired or revoked token. A
/// failure that is not the token's (the database unreachable) keeps its own Cloud code.
pub fn authenticated(caller: Result<AuthUser, ApiError>) -> Result<AuthUser, CloudError> {
    caller.map_err(|error| {
        if error.status != 401 {
            return CloudError::from(error);
        }
        let details = error
            .errors
            .first()
            .and_then(|e| e.details.clone())
            .unwrap_or_else(|| "Invalid OAuth access token".to_string());
        CloudError::invalid_token(details)
    })
}

/// The body's top-level fields; a syntax error or an oversize body in the Cloud envelope.
pub fn body_of(params: Result<JsonParams, ApiError>) -> Result<Map<String, Value>, CloudError> {
    match params?.into_value() {
        Value::Object(fields) => Ok(fields),
        _ => Ok(Map::new()),
    }
}

/// The path's `object_id`.
pub fn object_id(req: &HttpRequest) -> String {
    req.match_info()
        .get("object_id")
        .unwrap_or_default()
        .to_string()
}

/// The registered business number as the Cloud API shows it.
pub struct BusinessNumber {
    pub wa_id: String,
    pub verified_name: String,
    pub phone_number_id: String,
    pub waba_id: String,
    /// False while the number is deregistered (`POST /{phone-number-id}/deregister`).
    pub registered: bool,
}

/// The registered number, read from the store the coreapp registers it in; `None` before
/// registration.
pub async fn registered(state: &AppState) -> Result<Option<BusinessNumber>, CloudError> {
    let registration = state.store.registration().await.map_err(|error| {
        tracing::error!("cloud: cannot read the registration: {error}");
        CloudError::from(ApiError::new(
            wa_api::ErrorCode::DatabaseError,
            "Cannot read the registration",
        ))
    })?;
    Ok(registration.map(|r| BusinessNumber {
        phone_number_id: ids::phone_number_id(&r.phone),
        waba_id: ids::waba_id(&r.phone),
        registered: r.deregistered_at.is_none(),
        wa_id: r.phone,
        verified_name: r.vname,
    }))
}

/// The registered number when `id` is its `phone_number_id`, else 100/33.
pub async fn phone_number(
    state: &AppState,
    req: &HttpRequest,
) -> Result<BusinessNumber, CloudError> {
    let id = object_id(req);
    match registered(state).await? {
        Some(number) if number.phone_number_id == id => Ok(number),
        _ => Err(unknown(req, &id)),
    }
}

/// The registered number when `id` is the business account's id, else 100/33.
pub async fn business_account(
    state: &AppState,
    req: &HttpRequest,
) -> Result<BusinessNumber, CloudError> {
    let id = object_id(req);
    match registered(state).await? {
        Some(number) if number.waba_id == id => Ok(number),
        _ => Err(unknown(req, &id)),
    }
}

/// 100/33 for `id`, named with the request's method as Graph names it.
pub fn unknown(req: &HttpRequest, id: &str) -> CloudError {
    CloudError::unknown_object(id, &req.method().as_str().to_ascii_lowercase())
}

/// Graph's answer to a write that has nothing else to say.
pub fn success() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "success": true }))
}

/// An administrator's call on the registered number's `phone_number_id` (the writes and the
/// profile): the caller checked first, then the id.
pub async fn admin_on_number(
    caller: Result<AuthUser, ApiError>,
    state: &AppState,
    req: &HttpRequest,
) -> Result<BusinessNumber, CloudError> {
    authenticated(caller)?.require_admin()?;
    phone_number(state, req).await
}

/// An administrator's call on the business account's id (template writes, the subscription).
pub async fn admin_on_account(
    caller: Result<AuthUser, ApiError>,
    state: &AppState,
    req: &HttpRequest,
) -> Result<BusinessNumber, CloudError> {
    authenticated(caller)?.require_admin()?;
    business_account(state, req).await
}
