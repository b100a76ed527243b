//! Endpoints the coreapp answers. Each handler states who may call it; the body's JSON syntax
//! was checked by `JsonParams`; the rest (validation, work, answer) is the coreapp's.

use crate::auth::AuthUser;
use crate::body::JsonParams;
use crate::routes::forward::to_coreapp;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use wa_api::ApiError;

/// Registration and application settings: administrators only.
pub async fn admin_with_body(
    req: HttpRequest,
    caller: AuthUser,
    state: web::Data<AppState>,
    params: JsonParams,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    to_coreapp(&req, &state, Some(params)).await
}

pub async fn admin_without_body(
    req: HttpRequest,
    caller: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    to_coreapp(&req, &state, None).await
}

/// Messages and contacts: any signed-in user.
pub async fn user_with_body(
    req: HttpRequest,
    _caller: AuthUser,
    state: web::Data<AppState>,
    params: JsonParams,
) -> Result<HttpResponse, ApiError> {
    to_coreapp(&req, &state, Some(params)).await
}

/// Reads and deletes of user-level resources (sticker packs, templates, a message's status):
/// any signed-in user.
pub async fn user_without_body(
    req: HttpRequest,
    _caller: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    to_coreapp(&req, &state, None).await
}
