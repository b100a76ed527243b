//! The webhook outbox.

use super::Store;
use crate::tables::callbacks::{self, NewCallback, PendingCallback};
use crate::tables::pipeline::{unexpected, PipelineWrite, Written};
use crate::StoreError;
use wa_api::webhooks::WebhookTarget;

impl Store {
    /// Queues a webhook that belongs to no other write; false when its event was queued before.
    pub async fn enqueue_callback(&self, callback: NewCallback) -> Result<bool, StoreError> {
        match self.write(PipelineWrite::EnqueueCallback(callback)).await? {
            Written::Inserted(new) => Ok(new),
            other => Err(unexpected(other)),
        }
    }

    /// Callbacks of `target` due at `now_ms`, oldest first, skipping the ids in `exclude` (in
    /// flight).
    pub async fn due_callbacks(
        &self,
        target: WebhookTarget,
        now_ms: i64,
        limit: i64,
        exclude: Vec<i64>,
    ) -> Result<Vec<PendingCallback>, StoreError> {
        self.run(move |conn| callbacks::due(conn, target, now_ms, limit, exclude))
            .await
    }

    /// Forgets every webhook queued for `target` (its subscription ended); returns how many.
    pub async fn drop_target_callbacks(&self, target: WebhookTarget) -> Result<usize, StoreError> {
        self.run(move |conn| callbacks::delete_target(conn, target))
            .await
    }

    /// The receiver took it: forget it.
    pub async fn delete_callback(&self, id: i64) -> Result<(), StoreError> {
        self.write(PipelineWrite::DeleteCallback(id))
            .await
            .map(|_| ())
    }

    pub async fn reschedule_callback(
        &self,
        id: i64,
        attempts: i32,
        next_attempt_ms: i64,
        last_error: String,
    ) -> Result<(), StoreError> {
        self.run(move |conn| callbacks::reschedule(conn, id, attempts, next_attempt_ms, last_error))
            .await
    }

    pub async fn pending_callback_count(&self) -> Result<i64, StoreError> {
        self.run(callbacks::count).await
    }

    /// Every On-Prem body of `kind` queued, oldest first (diagnostics and tests).
    pub async fn queued_callback_bodies(&self, kind: &str) -> Result<Vec<String>, StoreError> {
        self.queued_bodies_for(WebhookTarget::OnPrem, kind).await
    }

    /// Every body of `kind` queued for `target`, oldest first (diagnostics and tests).
    pub async fn queued_bodies_for(
        &self,
        target: WebhookTarget,
        kind: &str,
    ) -> Result<Vec<String>, StoreError> {
        let kind = kind.to_string();
        self.run(move |conn| callbacks::bodies_of_kind(conn, target, &kind))
            .await
    }
}
