//! Consumers' identities as the business's coreapp asks for them (`GetIdentity`): the security
//! code every message of the consumer names, changed by `POST /control/consumers/{wa_id}/identity`.

use crate::network::Network;
use wa_netproto::{NetError, Response};

impl Network {
    /// The current identity of `wa_id`. A well-formed number never seen before is a WhatsApp
    /// user like any other: its consumer is created now, so the identity it answers with stays
    /// the same until the consumer changes it.
    pub fn identity(&self, wa_id: &str) -> Result<Response, NetError> {
        let wa_id = crate::base::phone::wa_id(wa_id)
            .ok_or_else(|| crate::base::errors::invalid_parameter("wa_id is not a valid number"))?;
        let mut world = self.world();
        if !world.is_user(&wa_id) {
            return Err(crate::base::errors::user_not_valid());
        }
        let identity = world.consumer(&wa_id).identity.clone();
        Ok(Response::Identity {
            wa_id,
            hash: identity.hash,
            created_timestamp: identity.created_timestamp,
        })
    }
}
