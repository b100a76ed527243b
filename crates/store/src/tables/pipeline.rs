//! The message pipeline's hot writes, which share commits through `group_commit`: what each one
//! writes, and which commit queue it waits in.

use crate::clock::now_ms;
use crate::db::DbConnection;
use crate::group_commit::GroupWrite;
use crate::tables::callbacks::{self, NewCallback};
use crate::tables::messages::{self, InboundMessage, OutboundMessage, StatusOutcome};
use crate::StoreError;

/// One write that may share a transaction with others.
pub(crate) enum PipelineWrite {
    /// A message to send, and when it gives up if still pending.
    InsertOutbound(OutboundMessage, Option<i64>),
    RecordStatus {
        message_id: String,
        status: String,
        callback: Option<NewCallback>,
        /// A receipt: not over `pending` (see `Store::record_receipt`).
        after_sent_only: bool,
        /// Why the message failed, kept with it when it moves.
        errors: Option<String>,
    },
    InsertInbound(InboundMessage, NewCallback),
    EnqueueCallback(NewCallback),
    DeleteCallback(i64),
}

/// Which commit queue a write waits in. Each queue has its own flusher on its own connection, so
/// a message the API is waiting to store never waits behind a large batch of the pipeline's
/// statuses and webhook rows (that wait was most of the API's p99 under load).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteClass {
    /// A message an API call is waiting to store.
    Accept,
    /// Everything the message pipeline writes.
    Pipeline,
}

/// What a write did, for the caller's typed answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    Done,
    Status(StatusOutcome),
    /// Whether a row was added (false: it was there already).
    Inserted(bool),
}

impl PipelineWrite {
    pub(crate) fn class(&self) -> WriteClass {
        match self {
            PipelineWrite::InsertOutbound(..) => WriteClass::Accept,
            _ => WriteClass::Pipeline,
        }
    }

    /// What the write's order matters to: writes with the same key wait in the same pipeline
    /// lane, so they commit in the order they were queued (a message's `sent` before its
    /// `delivered`, one consumer's messages in the order they came). Writes without one go to
    /// the first lane.
    pub(crate) fn order_key(&self) -> Option<&str> {
        match self {
            PipelineWrite::RecordStatus { message_id, .. } => Some(message_id),
            PipelineWrite::InsertInbound(message, _) => Some(&message.from),
            PipelineWrite::InsertOutbound(..)
            | PipelineWrite::EnqueueCallback(_)
            | PipelineWrite::DeleteCallback(_) => None,
        }
    }
}

impl GroupWrite for PipelineWrite {
    type Outcome = Written;

    fn apply(&self, conn: &mut DbConnection) -> Result<Written, StoreError> {
        match self {
            PipelineWrite::InsertOutbound(message, expires_ms) => {
                messages::insert_outbound(conn, message, *expires_ms).map(|()| Written::Done)
            }
            PipelineWrite::RecordStatus {
                message_id,
                status,
                callback,
                after_sent_only,
                errors,
            } => messages::record_status(
                conn,
                message_id,
                status,
                callback.as_ref(),
                *after_sent_only,
                errors.as_deref(),
            )
            .map(Written::Status),
            PipelineWrite::InsertInbound(message, callback) => {
                messages::insert_inbound(conn, message, callback).map(Written::Inserted)
            }
            PipelineWrite::EnqueueCallback(callback) => {
                callbacks::insert(conn, callback, now_ms()).map(Written::Inserted)
            }
            PipelineWrite::DeleteCallback(id) => {
                callbacks::delete(conn, *id).map(|()| Written::Done)
            }
        }
    }

    /// Every webhook delete of the batch folded into one statement (a burst of delivered webhooks
    /// is otherwise one `DELETE` each), and the webhooks of the statuses that moved inserted
    /// together after them (otherwise one `INSERT` each, half the statements of a status).
    fn apply_together(
        conn: &mut DbConnection,
        writes: &[Self],
    ) -> Result<Vec<Written>, StoreError> {
        let deleted: Vec<i64> = writes
            .iter()
            .filter_map(|write| match write {
                PipelineWrite::DeleteCallback(id) => Some(*id),
                _ => None,
            })
            .collect();
        if deleted.len() > 1 {
            callbacks::delete_all(conn, &deleted)?;
        }
        let mut status_webhooks: Vec<&NewCallback> = Vec::new();
        let outcomes = writes
            .iter()
            .map(|write| match write {
                PipelineWrite::DeleteCallback(_) if deleted.len() > 1 => Ok(Written::Done),
                PipelineWrite::RecordStatus {
                    message_id,
                    status,
                    callback: Some(callback),
                    after_sent_only,
                    errors,
                } => {
                    let outcome = messages::record_status(
                        conn,
                        message_id,
                        status,
                        None,
                        *after_sent_only,
                        errors.as_deref(),
                    )?;
                    if outcome == StatusOutcome::Advanced {
                        status_webhooks.push(callback);
                    }
                    Ok(Written::Status(outcome))
                }
                other => other.apply(conn),
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        callbacks::insert_all(conn, &status_webhooks, now_ms())?;
        Ok(outcomes)
    }
}

/// A write answered with the wrong kind of outcome: a bug in this crate, reported, not panicked on.
pub(crate) fn unexpected(outcome: Written) -> StoreError {
    StoreError::Query(format!("internal: unexpected write outcome {outcome:?}"))
}
