//! Messages in both directions: the hot writes go through the commit queues.

use super::Store;
use crate::tables::callbacks::NewCallback;
use crate::tables::idempotency::{self, IdempotentSend};
use crate::tables::messages::{
    self, InboundMessage, OutboundMessage, ShardSlice, StatusOutcome, StoredMessage,
};
use crate::tables::pipeline::{unexpected, PipelineWrite, Written};
use crate::StoreError;

impl Store {
    /// Stores a message to send; the API answers 201 only after this returns.
    pub async fn insert_outbound(&self, msg: OutboundMessage) -> Result<(), StoreError> {
        self.insert_outbound_expiring(msg, None).await
    }

    /// [`Store::insert_outbound`] for a message that gives up at `expires_ms` if it has not
    /// reached the network by then (see [`Store::expired_outbound`]).
    pub async fn insert_outbound_expiring(
        &self,
        msg: OutboundMessage,
        expires_ms: Option<i64>,
    ) -> Result<(), StoreError> {
        self.write(PipelineWrite::InsertOutbound(msg, expires_ms))
            .await
            .map(|_| ())
    }

    /// [`Store::insert_outbound_expiring`] for a send made with an idempotency key: the message
    /// and `answer` are stored together, or, when a send since `since_ms` holds the key already,
    /// neither, and that send's answer is returned. Not batched with other sends: a taken key
    /// must fail only its own transaction.
    pub async fn insert_outbound_idempotent(
        &self,
        msg: OutboundMessage,
        expires_ms: Option<i64>,
        answer: IdempotentSend,
        since_ms: i64,
    ) -> Result<Option<IdempotentSend>, StoreError> {
        self.run(move |conn| {
            idempotency::insert_with_message(conn, &answer, &msg, expires_ms, since_ms)
        })
        .await
    }

    /// The first answer to the send made with `key` at or after `since_ms`.
    pub async fn find_idempotent_send(
        &self,
        key: &str,
        since_ms: i64,
    ) -> Result<Option<IdempotentSend>, StoreError> {
        let key = key.to_string();
        self.run(move |conn| idempotency::find(conn, &key, since_ms))
            .await
    }

    /// Forgets the idempotency keys stored before `before_ms`; returns how many.
    pub async fn delete_idempotency_keys_before(&self, before_ms: i64) -> Result<u64, StoreError> {
        let deleted = self
            .run(move |conn| idempotency::delete_older_than(conn, before_ms))
            .await?;
        Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
    }

    /// Outbound messages the network has not accepted yet, oldest first, minus `exclude`; only
    /// those of `shard` when given (a Multiconnect coreapp reads its own shard's).
    pub async fn pending_outbound(
        &self,
        limit: i64,
        exclude: Vec<String>,
        shard: Option<ShardSlice>,
    ) -> Result<Vec<OutboundMessage>, StoreError> {
        self.run(move |conn| messages::pending_outbound(conn, limit, exclude, shard))
            .await
    }

    /// Pending outbound messages whose expiry is at or before `now_ms`, minus `exclude` (those
    /// being handed to the network right now), oldest first; only those of `shard` when given.
    pub async fn expired_outbound(
        &self,
        now_ms: i64,
        limit: i64,
        exclude: Vec<String>,
        shard: Option<ShardSlice>,
    ) -> Result<Vec<OutboundMessage>, StoreError> {
        self.run(move |conn| messages::expired_outbound(conn, now_ms, limit, exclude, shard))
            .await
    }

    /// Moves an outbound message to `status` and queues its webhook, in one transaction. Statuses
    /// never move backwards: a `delivered` arriving after `read` changes nothing and queues no
    /// webhook (the spec allows skipped statuses, not reordered ones going back).
    pub async fn record_status(
        &self,
        message_id: &str,
        status: &str,
        callback: Option<NewCallback>,
    ) -> Result<StatusOutcome, StoreError> {
        self.write_status(message_id, status, callback, false, None)
            .await
    }

    /// [`Store::record_status`] for a phone's receipt (`delivered`, `read`, `failed`): answers
    /// [`StatusOutcome::NotSentYet`] without writing when the message is still `pending`, i.e.
    /// the coreapp stopped before it recorded the network's acceptance. The caller then records
    /// `sent` first, so its webhook is not lost; in the usual case one write is enough.
    pub async fn record_receipt(
        &self,
        message_id: &str,
        status: &str,
        callback: Option<NewCallback>,
    ) -> Result<StatusOutcome, StoreError> {
        self.write_status(message_id, status, callback, true, None)
            .await
    }

    /// Records `failed` like [`Store::record_status`] (or, for a phone's receipt,
    /// [`Store::record_receipt`]) and keeps `errors`, the JSON array of error objects of its
    /// webhook, with the message in the same transaction; `find_message` answers them.
    pub async fn record_failure(
        &self,
        message_id: &str,
        callback: Option<NewCallback>,
        errors: String,
        receipt: bool,
    ) -> Result<StatusOutcome, StoreError> {
        self.write_status(message_id, "failed", callback, receipt, Some(errors))
            .await
    }

    async fn write_status(
        &self,
        message_id: &str,
        status: &str,
        callback: Option<NewCallback>,
        after_sent_only: bool,
        errors: Option<String>,
    ) -> Result<StatusOutcome, StoreError> {
        let write = PipelineWrite::RecordStatus {
            message_id: message_id.to_string(),
            status: status.to_string(),
            callback,
            after_sent_only,
            errors,
        };
        match self.write(write).await? {
            Written::Status(outcome) => Ok(outcome),
            other => Err(unexpected(other)),
        }
    }

    /// Stores an inbound message together with its webhook; false (and nothing written) when the
    /// message was stored before, e.g. the network re-sent it after a crash.
    pub async fn insert_inbound(
        &self,
        msg: InboundMessage,
        callback: NewCallback,
    ) -> Result<bool, StoreError> {
        match self
            .write(PipelineWrite::InsertInbound(msg, callback))
            .await?
        {
            Written::Inserted(new) => Ok(new),
            other => Err(unexpected(other)),
        }
    }

    /// [`Store::insert_inbound`] for several messages, committed in the order given (so their
    /// webhooks keep it), sharing commits; one flag per message.
    pub async fn insert_inbound_batch(
        &self,
        messages: Vec<(InboundMessage, NewCallback)>,
    ) -> Result<Vec<bool>, StoreError> {
        let writes = messages
            .into_iter()
            .map(|(msg, callback)| PipelineWrite::InsertInbound(msg, callback))
            .collect();
        self.write_all(writes)
            .await
            .into_iter()
            .map(|written| match written? {
                Written::Inserted(new) => Ok(new),
                other => Err(unexpected(other)),
            })
            .collect()
    }

    pub async fn find_message(&self, id: &str) -> Result<Option<StoredMessage>, StoreError> {
        let id = id.to_string();
        self.run(move |conn| messages::find(conn, &id)).await
    }

    /// When `peer` last wrote to the business (milliseconds), if ever.
    pub async fn last_inbound_ms(&self, peer: &str) -> Result<Option<i64>, StoreError> {
        let peer = peer.to_string();
        self.run(move |conn| messages::last_inbound_ms(conn, &peer))
            .await
    }

    /// Number of messages per direction and status (statistics and tests).
    pub async fn message_counts(&self) -> Result<Vec<(bool, String, i64)>, StoreError> {
        self.run(messages::counts).await
    }

    /// Deletes up to `limit` messages last updated before `cutoff_ms` (`PUT
    /// /v1/services/message/gc`, spec onprem-messaging §3.4); pending outbound messages are kept
    /// whatever their age (they have not reached the network yet). Returns how many went; call
    /// again until it returns less than `limit`.
    pub async fn delete_old_messages(
        &self,
        cutoff_ms: i64,
        limit: i64,
    ) -> Result<usize, StoreError> {
        self.run(move |conn| messages::delete_old(conn, cutoff_ms, limit))
            .await
    }
}
