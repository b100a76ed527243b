//! The one mapping of the coreapp's internal failures to On-Prem error codes: a database failure
//! is 1023 everywhere, an error the network answered keeps the network's code, a network that
//! cannot be reached is 1011 (not connected, as the original said while starting).

use wa_api::{ApiError, ErrorCode};
use wa_netproto::NetError;
use wa_store::StoreError;

/// 1023 for any database failure; the cause goes to the log, not to the client.
pub fn store_failure(err: StoreError) -> ApiError {
    tracing::error!("database error: {err}");
    ApiError::new(ErrorCode::DatabaseError, "Database operation failed")
}

/// 1023 with a message naming what could not be done (`"save"`, `"reset"`, ...).
pub fn store_failure_while(action: &str, err: &StoreError) -> ApiError {
    tracing::error!("database error while trying to {action}: {err}");
    ApiError::new(ErrorCode::DatabaseError, format!("Unable to {action}"))
}

/// An error the network answered: its code when it is an On-Prem one, 1014 otherwise.
pub fn net_error(err: NetError) -> ApiError {
    ApiError::new(
        ErrorCode::from_code(err.code).unwrap_or(ErrorCode::InternalError),
        err.details.unwrap_or(err.title),
    )
}

/// 1011 with a reason the client can read: the network session is down or broke mid-request.
pub fn network_unreachable(reason: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::ServiceNotReady, reason.to_string())
}

/// 1011, and a log line saying why, as the original did while starting.
pub fn not_ready(what: &str) -> ApiError {
    tracing::warn!("{what} refused: service not ready (not connected, or still initializing)");
    ApiError::new(ErrorCode::ServiceNotReady, "Service not ready")
}

/// 1017: a call only the primary master answers reached another node of the cluster.
pub fn not_primary_master() -> ApiError {
    ApiError::new(
        ErrorCode::NotPrimaryMaster,
        "This node is not the primary master; the call must go to the primary master",
    )
}

/// 1018: a send reached a coreapp that does not (or no longer) hold the recipient's shard.
pub fn not_shard_holder() -> ApiError {
    ApiError::new(
        ErrorCode::NotPrimaryCoreapp,
        "This coreapp does not hold the recipient's shard; retry after the directory is read again",
    )
}
