//! The one error type of the store. Callers decide on HTTP status and retries from the variant alone.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The configuration cannot work (bad URL, bad pool size, bad database name); retrying won't help.
    #[error("store configuration: {0}")]
    Config(String),
    /// The database cannot be reached right now, or no pooled connection became free in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A row with the same unique key already exists.
    #[error("a row with the same unique key already exists")]
    Conflict,
    /// Any other database failure.
    #[error("database query failed: {0}")]
    Query(String),
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                StoreError::Conflict
            }
            other => StoreError::Query(other.to_string()),
        }
    }
}

impl From<diesel::ConnectionError> for StoreError {
    fn from(error: diesel::ConnectionError) -> Self {
        match error {
            diesel::ConnectionError::InvalidConnectionUrl(message) => StoreError::Config(message),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violation_becomes_conflict() {
        let error = DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("duplicate".to_string()),
        );
        assert!(matches!(StoreError::from(error), StoreError::Conflict));
    }

    #[test]
    fn other_query_errors_keep_their_message() {
        let error = StoreError::from(DieselError::NotFound);
        assert!(matches!(error, StoreError::Query(message) if message.contains("not found")));
    }
}
