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
    /// The database rolled the transaction back to break a deadlock or a serialization
    /// conflict with another one: nothing of it was written, and running it again is safe.
    #[error("database query failed: {0}")]
    Contention(String),
    /// A stored secret does not open with the configured secrets keys (another key sealed it, or
    /// the value is damaged); retrying won't help.
    #[error("secrets key: {0}")]
    Sealed(String),
    /// Any other database failure.
    #[error("database query failed: {0}")]
    Query(String),
}

impl StoreError {
    /// Whether the failed transaction may simply be run again (see [`StoreError::Contention`]).
    pub fn is_contention(&self) -> bool {
        matches!(self, StoreError::Contention(_))
    }
}

/// What the servers say when they chose this transaction as a deadlock's victim or gave up
/// waiting for a lock. diesel reports neither MariaDB's error number (1213, 1205) nor
/// PostgreSQL's SQLSTATE 40P01 as a kind, so their fixed messages are the only sign.
const CONTENTION_MESSAGES: [&str; 3] = [
    "Deadlock found when trying to get lock",
    "Lock wait timeout exceeded",
    "deadlock detected",
];

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                StoreError::Conflict
            }
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
                StoreError::Contention(info.message().to_string())
            }
            DieselError::DatabaseError(_, ref info)
                if CONTENTION_MESSAGES
                    .iter()
                    .any(|m| info.message().contains(m)) =>
            {
                StoreError::Contention(error.to_string())
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
    fn deadlocks_and_serialization_failures_are_contention() {
        for (kind, message) in [
            (
                DatabaseErrorKind::Unknown,
                "Deadlock found when trying to get lock; try restarting transaction",
            ),
            (DatabaseErrorKind::Unknown, "deadlock detected"),
            (
                DatabaseErrorKind::SerializationFailure,
                "could not serialize access due to concurrent update",
            ),
        ] {
            let error = StoreError::from(DieselError::DatabaseError(
                kind,
                Box::new(message.to_string()),
            ));
            assert!(error.is_contention(), "{message}: {error:?}");
            assert!(error.to_string().contains(message), "{error}");
        }
        let other = DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("Data too long for column".to_string()),
        );
        assert!(!StoreError::from(other).is_contention());
    }

    #[test]
    fn other_query_errors_keep_their_message() {
        let error = StoreError::from(DieselError::NotFound);
        assert!(matches!(error, StoreError::Query(message) if message.contains("not found")));
    }
}
