//! What the business knows about its contacts: cached contact checks, identities and open
//! conversations.

use std::collections::HashMap;

use super::Store;
use crate::tables::contacts;
use crate::tables::conversations::{self, Conversation};
use crate::tables::identities::{self, ContactIdentity};
use crate::StoreError;

impl Store {
    /// Cached answers for `wa_ids` checked at or after `fresh_since` (unix seconds).
    pub async fn cached_contacts(
        &self,
        wa_ids: Vec<String>,
        fresh_since: i64,
    ) -> Result<HashMap<String, bool>, StoreError> {
        self.run(move |conn| contacts::cached(conn, wa_ids, fresh_since))
            .await
    }

    /// Records fresh answers, replacing older ones.
    pub async fn save_contacts(
        &self,
        results: Vec<(String, bool)>,
        checked_at: i64,
    ) -> Result<(), StoreError> {
        self.run(move |conn| contacts::save(conn, &results, checked_at))
            .await
            .or_else(|err| match err {
                // Another check of the same number committed first; its answer is as fresh as ours.
                StoreError::Conflict => Ok(()),
                other => Err(other),
            })
    }

    /// Records a contact's new identity (unacknowledged), replacing the previous one.
    pub async fn save_identity(&self, identity: ContactIdentity) -> Result<(), StoreError> {
        self.run(move |conn| identities::save(conn, &identity))
            .await
    }

    pub async fn find_identity(&self, wa_id: &str) -> Result<Option<ContactIdentity>, StoreError> {
        let wa_id = wa_id.to_string();
        self.run(move |conn| identities::find(conn, &wa_id)).await
    }

    /// Acknowledges the contact's identity when `hash` is its latest one. False otherwise.
    pub async fn acknowledge_identity(&self, wa_id: &str, hash: &str) -> Result<bool, StoreError> {
        let (wa_id, hash) = (wa_id.to_string(), hash.to_string());
        self.run(move |conn| identities::acknowledge(conn, &wa_id, &hash))
            .await
    }

    /// The conversation open with `recipient` at `now`, or `candidate` when none is: then it is
    /// stored and the flag is true (the status that opens a conversation carries its expiry).
    pub async fn open_conversation(
        &self,
        recipient: &str,
        now: i64,
        candidate: Conversation,
    ) -> Result<(Conversation, bool), StoreError> {
        let recipient = recipient.to_string();
        self.run(move |conn| conversations::open(conn, &recipient, now, candidate))
            .await
    }
}
