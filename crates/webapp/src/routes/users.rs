//! Users and tokens (spec onprem-rest §5–6).

use crate::auth::{format_expiry, issue_token, store_failure, AuthUser, Credentials, TokenKind};
use crate::body::JsonParams;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use wa_api::envelope::{meta_only, payload};
use wa_api::users::{
    password_meets_policy, username_problem, LoginToken, UserInfo, UsernameOnly, ADMIN_USERNAME,
    PASSWORD_POLICY_MESSAGE, ROLE_USER,
};
use wa_api::{ApiError, ErrorCode, Meta};
use wa_store::{NewUser, StoreError};

/// Name reserved for the API-key pseudo-user; no real account may take it.
pub const API_KEY_USERNAME: &str = "__apikey__";

/// `POST /v1/users/login`: Basic credentials → token; also where the first admin password is set.
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: JsonParams,
) -> Result<HttpResponse, ApiError> {
    let ip = client_ip(&req);
    if state.failed_logins.is_exhausted(ip) {
        return Err(login_lockout());
    }
    let (username, password) = match Credentials::from_request(&req) {
        Ok(Credentials::Basic { username, password }) => (username, password),
        Ok(_) => return Err(failed_login(&state, ip, "Basic credentials required")),
        Err(err) => return Err(failed_login(&state, ip, &first_details(&err))),
    };
    let user = state
        .store
        .find_user(&username)
        .await
        .map_err(store_failure)?;
    // One bcrypt verification whether or not the user exists: an unknown name is checked against
    // a hash at the same cost that no password matches, so the answer's timing does not tell
    // whether a username exists.
    let hash = user.as_ref().map_or(state.unknown_user_hash(), |user| {
        user.password_hash.as_str()
    });
    let verified = verify_password(&state, &password, hash).await?;
    let Some(user) = user.filter(|_| verified) else {
        return Err(failed_login(&state, ip, "Invalid credentials"));
    };
    let new_password = params.optional_str("new_password")?;
    let user = match new_password {
        Some(new_password) => {
            check_password_policy(new_password)?;
            let hash = hash_password(&state, new_password).await?;
            // The token is issued under the new password's stamp.
            let user = state
                .store
                .update_password(&user.username, &hash, false)
                .await
                .map_err(store_failure)?
                .ok_or_else(|| failed_login(&state, ip, "Invalid credentials"))?;
            state.tokens.forget_user(&user.username);
            user
        }
        None if user.must_change_password => {
            return Err(ApiError::new(
                ErrorCode::PasswordChangeRequired,
                "Password must be changed",
            ));
        }
        None => user,
    };
    let issued = issue_token(&state, &user).await?;
    let body = LoginToken {
        token: issued.token,
        expires_after: format_expiry(issued.expires_at),
    };
    Ok(HttpResponse::Ok().json(payload("users", [body], Meta::current_webapp())))
}

/// `POST /v1/users/logout`: revokes the presented token only.
pub async fn logout(user: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // An integration's long-lived token is an administrator's to revoke, by its id: logging out
    // with it (a client library's clean-up, say) must not silently cut the integration off.
    if user.kind == TokenKind::LongLived {
        return Err(ApiError::new(
            ErrorCode::RequestNotValid,
            "A long-lived token is revoked with DELETE /v1/settings/cloud/tokens/{id}",
        ));
    }
    state
        .store
        .delete_token(&user.token_id)
        .await
        .map_err(|e| {
            tracing::error!("deleting a token failed: {e}");
            ApiError::internal("Unable to delete token")
        })?;
    state.tokens.forget(&user.token_id);
    Ok(HttpResponse::Ok().json(meta_only(Meta::current_webapp())))
}

/// `POST /v1/users`: the admin creates a regular user.
pub async fn create(
    req: HttpRequest,
    caller: AuthUser,
    state: web::Data<AppState>,
    params: JsonParams,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    if !state.user_changes.consume(client_ip(&req)) {
        return Err(too_many("Rate limiting exceeded on create user"));
    }
    let username = params.required_str("username")?;
    let password = params.required_str("password")?;
    if let Some(problem) = username_problem(username, API_KEY_USERNAME) {
        return Err(ApiError::new(ErrorCode::ParameterValueInvalid, problem));
    }
    check_password_policy(password)?;
    let new_user = NewUser {
        username: username.to_string(),
        password_hash: hash_password(&state, password).await?,
        role: ROLE_USER.to_string(),
        must_change_password: false,
    };
    match state.store.create_user(new_user).await {
        Ok(_) => Ok(HttpResponse::Created().json(username_payload(username))),
        Err(StoreError::Conflict) => Err(ApiError::new(
            ErrorCode::ResourceAlreadyExists,
            format!("User '{username}' already exists"),
        )),
        Err(e) => Err(store_failure(e)),
    }
}

/// `GET /v1/users/{username}`: the admin reads anyone, a user only itself.
pub async fn get(
    caller: AuthUser,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let username = path.into_inner();
    if !caller.is_admin() && caller.username != username {
        return Err(ApiError::new(
            ErrorCode::AccessDenied,
            "Regular user cannot read other user information",
        ));
    }
    let user = state
        .store
        .find_user(&username)
        .await
        .map_err(store_failure)?
        .ok_or_else(user_missing)?;
    let info = UserInfo {
        roles: user.role,
        username: user.username,
    };
    Ok(HttpResponse::Ok().json(payload("users", [info], Meta::current_webapp())))
}

/// `PUT /v1/users/{username}`: change a password. Every token of that user is revoked (the
/// original kept them valid; see docs/compatibility.md), the caller's own included.
pub async fn update(
    req: HttpRequest,
    caller: AuthUser,
    path: web::Path<String>,
    state: web::Data<AppState>,
    params: JsonParams,
) -> Result<HttpResponse, ApiError> {
    let username = path.into_inner();
    if !caller.is_admin() && caller.username != username {
        return Err(ApiError::new(
            ErrorCode::AccessDenied,
            "Regular user cannot modify other user",
        ));
    }
    if !state.user_changes.consume(client_ip(&req)) {
        return Err(too_many("Rate limiting exceeded on update user"));
    }
    let password = params.required_str("password")?;
    check_password_policy(password)?;
    let hash = hash_password(&state, password).await?;
    let updated = state
        .store
        .update_password(&username, &hash, false)
        .await
        .map_err(store_failure)?;
    if updated.is_none() {
        return Err(user_missing());
    }
    state.tokens.forget_user(&username);
    Ok(HttpResponse::Ok().json(username_payload(&username)))
}

/// `DELETE /v1/users/{username}`: admin only; revokes all of that user's tokens.
pub async fn delete(
    caller: AuthUser,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let username = path.into_inner();
    if username == ADMIN_USERNAME {
        return Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            "Admin user cannot be deleted",
        ));
    }
    let found = state
        .store
        .delete_user(&username)
        .await
        .map_err(store_failure)?;
    if !found {
        return Err(user_missing());
    }
    state.tokens.forget_user(&username);
    Ok(HttpResponse::Ok().json(username_payload(&username)))
}

fn username_payload(username: &str) -> serde_json::Value {
    let body = UsernameOnly {
        username: username.to_string(),
    };
    payload("users", [body], Meta::current_webapp())
}

fn user_missing() -> ApiError {
    ApiError::new(ErrorCode::ResourceNotFound, "User does not exist")
}

fn check_password_policy(password: &str) -> Result<(), ApiError> {
    if password_meets_policy(password) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::ParameterValueInvalid,
            PASSWORD_POLICY_MESSAGE,
        ))
    }
}

fn too_many(details: &str) -> ApiError {
    ApiError::new(ErrorCode::TooManyRequests, details)
}

fn login_lockout() -> ApiError {
    too_many("Rate limiting exceeded on bad login attempts")
}

/// Counts a failed login; the one that empties the allowance already answers 429, as the original.
fn failed_login(state: &AppState, ip: IpAddr, details: &str) -> ApiError {
    if state.failed_logins.consume(ip) {
        ApiError::unauthorized(details).with_header("WWW-Authenticate", "Basic realm=\"Secured\"")
    } else {
        login_lockout()
    }
}

fn first_details(err: &ApiError) -> String {
    err.errors
        .first()
        .and_then(|e| e.details.clone())
        .unwrap_or_default()
}

/// The client's address (see `client_addr`): behind a trusted proxy, the one it forwarded for.
fn client_ip(req: &HttpRequest) -> IpAddr {
    crate::client_addr::client_ip(req)
}

/// bcrypt is deliberately slow: keep it off the async workers.
async fn hash_password(state: &AppState, password: &str) -> Result<String, ApiError> {
    let cost = state.settings.webapp.bcrypt_cost;
    let password = password.to_string();
    web::block(move || bcrypt::hash(password, cost))
        .await
        .map_err(|_| ApiError::internal("Unable to hash the password"))?
        .map_err(|_| ApiError::internal("Unable to hash the password"))
}

async fn verify_password(state: &AppState, password: &str, hash: &str) -> Result<bool, ApiError> {
    state.password_checks.fetch_add(1, Ordering::Relaxed);
    let (password, hash) = (password.to_string(), hash.to_string());
    web::block(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .map_err(|_| ApiError::internal("Unable to verify the password"))
}
