//! Contacts' identities (spec onprem-messaging §4.3): a consumer who reinstalls WhatsApp or
//! changes phones gets a new identity, announced by a `user_identity_changed` system message.
//! With `show_security_notifications` on, sends to that contact are refused with 1028 until the
//! business acknowledges the new identity, and every inbound message shows the sender's identity
//! (spec §7.4). The endpoints are in `api::identity`.

use crate::state::CoreState;
use crate::util::failure::store_failure;
use serde_json::{json, Value};
use wa_api::{ApiError, ErrorCode};
use wa_store::{ContactIdentity, StoreError};

/// 1028 when security notifications are on and `wa_id`'s latest identity is unacknowledged.
pub async fn check_acknowledged(state: &CoreState, wa_id: &str) -> Result<(), ApiError> {
    if !state.settings.current().show_security_notifications {
        return Ok(());
    }
    let identity = state
        .store
        .find_identity(wa_id)
        .await
        .map_err(store_failure)?;
    match identity {
        Some(identity) if !identity.acknowledged => Err(ApiError::new(
            ErrorCode::IdentityChangeAckRequired,
            format!("The identity of {wa_id} changed; acknowledge it with PUT /v1/contacts/{wa_id}/identity"),
        )),
        _ => Ok(()),
    }
}

/// The sender's identity on an inbound message. A `user_identity_changed` notice records the new
/// identity (unacknowledged). With security notifications on, every message shows `identity`
/// (spec §7.4); with them off, none does.
pub async fn on_inbound(
    state: &CoreState,
    from: &str,
    message: &mut Value,
) -> Result<(), StoreError> {
    let Some(object) = message.as_object_mut() else {
        return Ok(());
    };
    let is_identity_change = object
        .get("system")
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        == Some("user_identity_changed");
    let Some(identity) = object.remove("identity") else {
        return Ok(());
    };
    let hash = identity["hash"].as_str().unwrap_or_default().to_string();
    if is_identity_change {
        let record = ContactIdentity {
            wa_id: from.to_string(),
            hash: hash.clone(),
            created_ms: identity["created_timestamp"].as_i64().unwrap_or_default(),
            acknowledged: false,
        };
        state.store.save_identity(record).await?;
    }
    if !state.settings.current().show_security_notifications {
        return Ok(());
    }
    let acknowledged = !is_identity_change && is_acknowledged(state, from, &hash).await?;
    object.insert(
        "identity".into(),
        json!({
            "acknowledged": acknowledged,
            "created_timestamp": identity["created_timestamp"],
            "hash": hash,
        }),
    );
    Ok(())
}

/// Whether the business accepted identity `hash` of `wa_id`. An identity that never changed
/// needs no acknowledgement (sends to it are not blocked either); a changed one is acknowledged
/// once `PUT /v1/contacts/{wa_id}/identity` named it.
async fn is_acknowledged(state: &CoreState, wa_id: &str, hash: &str) -> Result<bool, StoreError> {
    Ok(match state.store.find_identity(wa_id).await? {
        None => true,
        Some(known) => known.hash == hash && known.acknowledged,
    })
}
