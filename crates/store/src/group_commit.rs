//! Group commit for the hot writes of the message pipeline.
//!
//! Each of these writes must be durable before its caller goes on (a message is stored before the
//! API answers 201, a status and its webhook before the network's receipt is acknowledged, ...),
//! and on MariaDB or PostgreSQL every commit waits for a log flush. Committed one by one, the
//! flushes, not the statements, cap the message rate (docs/performance.md). So concurrent callers
//! queue their write here and one flusher commits everything queued in a single transaction,
//! then answers each caller. A lone write is committed at once; under load, writes that arrive
//! while a commit is in progress share the next one.
//!
//! There is no long-lived task: the first writer that finds no flush in progress spawns one, which
//! runs until the queue is empty. If a batch fails as a whole (a deadlock, or one bad write
//! aborting the transaction), each of its writes is retried in a transaction of its own, so a
//! failure is reported to the caller whose write caused it and nobody else.

use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

use crate::callbacks::{
    delete_callback_on, delete_callbacks_on, insert_callback, now_ms, NewCallback,
};
use crate::connection::DbConnection;
use crate::messages::{insert_inbound_on, insert_outbound_on, record_status_on};
use crate::messages::{InboundMessage, OutboundMessage, StatusOutcome};
use crate::{dialect, Store, StoreError};

/// Upper bound on the writes of one transaction, so a backlog is committed in steady steps.
const MAX_BATCH: usize = 256;

/// One write that may share a transaction with others.
pub(crate) enum Write {
    /// A message to send, and when it gives up if still pending.
    InsertOutbound(OutboundMessage, Option<i64>),
    RecordStatus {
        message_id: String,
        status: String,
        callback: Option<NewCallback>,
        /// A receipt: not over `pending` (see `Store::record_receipt`).
        after_sent_only: bool,
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
    Accept = 0,
    /// Everything the message pipeline writes.
    Pipeline = 1,
}

/// What a write did, for the caller's typed answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    Done,
    Status(StatusOutcome),
    /// Whether a row was added (false: it was there already).
    Inserted(bool),
}

impl Write {
    fn class(&self) -> WriteClass {
        match self {
            Write::InsertOutbound(..) => WriteClass::Accept,
            _ => WriteClass::Pipeline,
        }
    }

    fn apply(&self, conn: &mut DbConnection) -> Result<Written, StoreError> {
        match self {
            Write::InsertOutbound(message, expires_ms) => {
                insert_outbound_on(conn, message, *expires_ms).map(|()| Written::Done)
            }
            Write::RecordStatus {
                message_id,
                status,
                callback,
                after_sent_only,
            } => record_status_on(
                conn,
                message_id,
                status,
                callback.as_ref(),
                *after_sent_only,
            )
            .map(Written::Status),
            Write::InsertInbound(message, callback) => {
                insert_inbound_on(conn, message, callback).map(Written::Inserted)
            }
            Write::EnqueueCallback(callback) => {
                insert_callback(conn, callback, now_ms()).map(Written::Inserted)
            }
            Write::DeleteCallback(id) => delete_callback_on(conn, *id).map(|()| Written::Done),
        }
    }
}

type Reply = oneshot::Sender<Result<Written, StoreError>>;

/// The writes waiting for the next commit, and whether a flusher is running.
#[derive(Default)]
pub(crate) struct CommitQueue {
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    waiting: Vec<(Write, Reply)>,
    flushing: bool,
}

impl CommitQueue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // The state is a plain list and a flag; a panic elsewhere cannot leave it half-changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Store {
    /// Commits `write`, possibly together with other callers' writes, and returns what it did.
    pub(crate) async fn write(&self, write: Write) -> Result<Written, StoreError> {
        let mut outcomes = self.write_all(vec![write]).await;
        outcomes.pop().unwrap_or_else(|| Err(abandoned()))
    }

    /// Commits `writes` in the order given, queued together so they share as few commits as
    /// possible, and returns what each did. They go to the queue of the first one's class, so
    /// their order holds.
    pub(crate) async fn write_all(&self, writes: Vec<Write>) -> Vec<Result<Written, StoreError>> {
        let Some(class) = writes.first().map(Write::class) else {
            return Vec::new();
        };
        let mut answers = Vec::with_capacity(writes.len());
        let start_flusher = {
            let mut queue = self.commit_queue(class).lock();
            for write in writes {
                let (reply, answer) = oneshot::channel();
                queue.waiting.push((write, reply));
                answers.push(answer);
            }
            !std::mem::replace(&mut queue.flushing, true)
        };
        if start_flusher {
            // Spawned, so the flush finishes even if this caller stops waiting for it.
            tokio::spawn(self.clone().flush_until_empty(class));
        }
        let mut outcomes = Vec::with_capacity(answers.len());
        for answer in answers {
            outcomes.push(answer.await.unwrap_or_else(|_dropped| Err(abandoned())));
        }
        outcomes
    }

    async fn flush_until_empty(self, class: WriteClass) {
        loop {
            let batch = {
                let mut queue = self.commit_queue(class).lock();
                if queue.waiting.is_empty() {
                    queue.flushing = false;
                    return;
                }
                let take = queue.waiting.len().min(MAX_BATCH);
                queue.waiting.drain(..take).collect::<Vec<_>>()
            };
            self.commit_batch(batch).await;
        }
    }

    async fn commit_batch(&self, batch: Vec<(Write, Reply)>) {
        let (writes, mut replies): (Vec<Write>, Vec<Reply>) = batch.into_iter().unzip();
        let outcomes = self
            .run(move |conn| {
                let mut outcomes = apply_all(conn, &writes);
                // A lone write's failure is the query's failure (so the query statistics count
                // it); a batch's query succeeded even when some of its writes did not.
                match outcomes.pop() {
                    Some(Err(error)) if outcomes.is_empty() => Err(error),
                    Some(last) => {
                        outcomes.push(last);
                        Ok(outcomes)
                    }
                    None => Ok(outcomes),
                }
            })
            .await;
        match outcomes {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // A caller that stopped waiting does not need its answer.
                    let _ = reply.send(outcome);
                }
            }
            Err(error) if replies.len() == 1 => {
                if let Some(reply) = replies.pop() {
                    let _ = reply.send(Err(error));
                }
            }
            Err(error) => {
                tracing::warn!(writes = replies.len(), %error, "group commit could not reach the database");
                let message = error.to_string();
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Unavailable(message.clone())));
                }
            }
        }
    }
}

/// All writes in one transaction; if that fails, each in its own.
fn apply_all(conn: &mut DbConnection, writes: &[Write]) -> Vec<Result<Written, StoreError>> {
    if writes.len() > 1 {
        let together: Result<Vec<Written>, StoreError> =
            dialect::write_transaction(conn, |conn| apply_together(conn, writes));
        if let Ok(outcomes) = together {
            return outcomes.into_iter().map(Ok).collect();
        }
    }
    writes
        .iter()
        .map(|write| dialect::write_transaction(conn, |conn| write.apply(conn)))
        .collect()
}

/// The writes of one transaction, with every webhook delete folded into one statement (a burst of
/// delivered webhooks is otherwise one `DELETE` each).
fn apply_together(conn: &mut DbConnection, writes: &[Write]) -> Result<Vec<Written>, StoreError> {
    let deleted: Vec<i64> = writes
        .iter()
        .filter_map(|write| match write {
            Write::DeleteCallback(id) => Some(*id),
            _ => None,
        })
        .collect();
    if deleted.len() > 1 {
        delete_callbacks_on(conn, &deleted)?;
    }
    writes
        .iter()
        .map(|write| match write {
            Write::DeleteCallback(_) if deleted.len() > 1 => Ok(Written::Done),
            other => other.apply(conn),
        })
        .collect()
}

fn abandoned() -> StoreError {
    StoreError::Unavailable("the write was abandoned before it was committed".to_string())
}
