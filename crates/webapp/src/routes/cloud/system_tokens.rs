//! `/v1/settings/cloud/tokens` (an extension, administrators only, in On-Prem's envelope): the
//! long-lived bearer tokens an integration uses, as Meta's system-user tokens are used with the
//! Cloud API. `POST` creates one and answers its secret once; `GET` lists them without it;
//! `DELETE .../{id}` revokes one. The token works on every On-Prem and Cloud path with its role's
//! rights (`auth.rs`).

use crate::auth::{new_long_lived_token, store_failure, AuthUser};
use crate::body::JsonParams;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use wa_api::envelope::{meta_only, payload};
use wa_api::users::Role;
use wa_api::{ApiError, ErrorCode, Meta};
use wa_store::{StoreError, SystemToken};

/// Longest name, in characters (the column holds 64 on every backend).
pub const NAME_MAX_CHARS: usize = 64;

/// One token as listed: never the secret, which is not stored.
#[derive(Serialize)]
struct Listed {
    id: String,
    name: String,
    role: Role,
    created_timestamp: i64,
    /// Only in the answer to the `POST` that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl Listed {
    fn of(token: SystemToken, secret: Option<String>) -> Listed {
        Listed {
            id: token.id,
            name: token.name,
            role: token.role,
            created_timestamp: token.created_at,
            token: secret,
        }
    }
}

pub async fn create(
    caller: AuthUser,
    state: web::Data<AppState>,
    params: JsonParams,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let name = checked_name(params.required_str("name")?)?;
    let role_text = params.required_str("role")?;
    let role = Role::parse(role_text).ok_or_else(|| {
        ApiError::new(
            ErrorCode::ParameterValueInvalid,
            format!(
                "Parameter 'role' has invalid value '{}': ROLE_ADMIN or ROLE_USER",
                wa_api::error::echoed(role_text)
            ),
        )
    })?;
    let created = new_long_lived_token(name, role, chrono::Utc::now().timestamp());
    state
        .store
        .insert_system_token(created.stored.clone())
        .await
        .map_err(|error| match error {
            // 256 random bits colliding is not going to happen; say so rather than 500 quietly.
            StoreError::Conflict => ApiError::internal("Token collision; try again"),
            other => store_failure(other),
        })?;
    tracing::info!(
        "long-lived token {} ({:?}) created by {}",
        created.stored.id,
        role,
        caller.username
    );
    let listed = Listed::of(created.stored, Some(created.token));
    Ok(HttpResponse::Created().json(payload("tokens", [listed], Meta::current_webapp())))
}

pub async fn list(caller: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let tokens = state.store.system_tokens().await.map_err(store_failure)?;
    let listed: Vec<Listed> = tokens.into_iter().map(|t| Listed::of(t, None)).collect();
    Ok(HttpResponse::Ok().json(payload("tokens", listed, Meta::current_webapp())))
}

pub async fn delete(
    caller: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let deleted = state
        .store
        .delete_system_token(&id)
        .await
        .map_err(store_failure)?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ResourceNotFound,
                format!("Token '{}' not found", wa_api::error::echoed(&id)),
            )
        })?;
    // At once here; other webapps drop it from their caches within TOKEN_RECHECK.
    state.tokens.forget(&deleted.token_hash);
    tracing::info!(
        "long-lived token {} revoked by {}",
        deleted.id,
        caller.username
    );
    Ok(HttpResponse::Ok().json(meta_only(Meta::current_webapp())))
}

/// The name trimmed, 1 to [`NAME_MAX_CHARS`] characters, no control characters (it is shown in
/// the console and in logs).
fn checked_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    let problem = if name.is_empty() {
        Some("must not be empty".to_string())
    } else if name.chars().count() > NAME_MAX_CHARS {
        Some(format!("is longer than {NAME_MAX_CHARS} characters"))
    } else if name.chars().any(char::is_control) {
        Some("contains control characters".to_string())
    } else {
        None
    };
    match problem {
        Some(problem) => Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            format!("Parameter 'name' {problem}"),
        )),
        None => Ok(name.to_string()),
    }
}
