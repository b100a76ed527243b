//! Layer 2: group commit, for writes that must each be durable before their caller goes on.
//!
//! A message is stored before the API answers 201, a status and its webhook before the network's
//! receipt is acknowledged, ...; on MariaDB or PostgreSQL every commit waits for a log flush.
//! Committed one by one, the flushes, not the statements, cap the message rate
//! (docs/performance.md). So concurrent callers queue their write here and one flusher commits
//! everything queued in a single transaction, then answers each caller. A lone write is committed
//! at once; under load, writes that arrive while a commit is in progress share the next one.
//!
//! There is no long-lived task: the first writer that finds no flush in progress spawns one, which
//! runs until the queue is empty. If a batch fails as a whole (a deadlock, or one bad write
//! aborting the transaction), each of its writes is retried in a transaction of its own, so a
//! failure is reported to the caller whose write caused it and nobody else; a write rolled back
//! as a deadlock's victim is run again a few times before it counts as failed.
//!
//! What a write is and does is the table layer's business ([`GroupWrite`]); this module only
//! queues, batches and commits.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

use crate::db::{write_transaction, Db, DbConnection};
use crate::StoreError;

/// Upper bound on the writes of one transaction, so a backlog is committed in steady steps.
const MAX_BATCH: usize = 256;

/// A write that may share a transaction with others.
pub(crate) trait GroupWrite: Send + Sized + 'static {
    /// What the write did, for its caller.
    type Outcome: Send + 'static;

    /// Applies this write inside the caller's transaction.
    fn apply(&self, conn: &mut DbConnection) -> Result<Self::Outcome, StoreError>;

    /// Applies `writes` inside one transaction, answering in their order. Each in turn unless a
    /// kind of write can fold several into one statement.
    fn apply_together(
        conn: &mut DbConnection,
        writes: &[Self],
    ) -> Result<Vec<Self::Outcome>, StoreError> {
        writes.iter().map(|write| write.apply(conn)).collect()
    }
}

type Reply<W> = oneshot::Sender<Result<<W as GroupWrite>::Outcome, StoreError>>;

/// The writes waiting for the next commit, and whether a flusher is running. Cheap to clone;
/// clones share the queue.
pub(crate) struct CommitQueue<W: GroupWrite> {
    db: Db,
    state: Arc<Mutex<QueueState<W>>>,
}

struct QueueState<W: GroupWrite> {
    waiting: Vec<(W, Reply<W>)>,
    flushing: bool,
}

impl<W: GroupWrite> Clone for CommitQueue<W> {
    fn clone(&self) -> Self {
        CommitQueue {
            db: self.db.clone(),
            state: Arc::clone(&self.state),
        }
    }
}

impl<W: GroupWrite> CommitQueue<W> {
    /// A queue whose flusher commits on `db`.
    pub(crate) fn new(db: Db) -> Self {
        CommitQueue {
            db,
            state: Arc::new(Mutex::new(QueueState {
                waiting: Vec::new(),
                flushing: false,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState<W>> {
        // The state is a plain list and a flag; a panic elsewhere cannot leave it half-changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Commits `write`, possibly together with other callers' writes, and returns what it did.
    pub(crate) async fn write(&self, write: W) -> Result<W::Outcome, StoreError> {
        let mut outcomes = self.write_all(vec![write]).await;
        outcomes.pop().unwrap_or_else(|| Err(abandoned()))
    }

    /// Commits `writes` in the order given, queued together so they share as few commits as
    /// possible, and returns what each did.
    pub(crate) async fn write_all(&self, writes: Vec<W>) -> Vec<Result<W::Outcome, StoreError>> {
        let mut answers = Vec::with_capacity(writes.len());
        let start_flusher = {
            let mut queue = self.lock();
            for write in writes {
                let (reply, answer) = oneshot::channel();
                queue.waiting.push((write, reply));
                answers.push(answer);
            }
            !answers.is_empty() && !std::mem::replace(&mut queue.flushing, true)
        };
        if start_flusher {
            // Spawned, so the flush finishes even if this caller stops waiting for it.
            tokio::spawn(self.clone().flush_until_empty());
        }
        let mut outcomes = Vec::with_capacity(answers.len());
        for answer in answers {
            outcomes.push(answer.await.unwrap_or_else(|_dropped| Err(abandoned())));
        }
        outcomes
    }

    async fn flush_until_empty(self) {
        loop {
            let batch = {
                let mut queue = self.lock();
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

    async fn commit_batch(&self, batch: Vec<(W, Reply<W>)>) {
        let (writes, mut replies): (Vec<W>, Vec<Reply<W>>) = batch.into_iter().unzip();
        let outcomes = self
            .db
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
fn apply_all<W: GroupWrite>(
    conn: &mut DbConnection,
    writes: &[W],
) -> Vec<Result<W::Outcome, StoreError>> {
    if writes.len() > 1 {
        let together = write_transaction(conn, |conn| W::apply_together(conn, writes));
        if let Ok(outcomes) = together {
            return outcomes.into_iter().map(Ok).collect();
        }
    }
    writes
        .iter()
        .map(|write| apply_alone(conn, write))
        .collect()
}

/// How often a write the database rolled back for contention is run again before its caller
/// hears of it.
const CONTENTION_ATTEMPTS: u32 = 5;

/// One write in a transaction of its own, run again when the database chose it as a deadlock's
/// victim: the rollback undid all of it, and a caller told of the failure would act as if the
/// write never happened (the delivery worker would hand an accepted message to the network
/// again). A short pause, longer each time, lets the other transaction finish first.
fn apply_alone<W: GroupWrite>(
    conn: &mut DbConnection,
    write: &W,
) -> Result<W::Outcome, StoreError> {
    let mut attempt = 1;
    loop {
        match write_transaction(conn, |conn| write.apply(conn)) {
            Err(error) if error.is_contention() && attempt < CONTENTION_ATTEMPTS => {
                tracing::info!(attempt, %error, "write rolled back for contention; running it again");
                std::thread::sleep(std::time::Duration::from_millis(5 << attempt));
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

fn abandoned() -> StoreError {
    StoreError::Unavailable("the write was abandoned before it was committed".to_string())
}
