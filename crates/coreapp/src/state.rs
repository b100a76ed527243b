//! The coreapp's live state.

use std::sync::{OnceLock, RwLock};
use wa_api::health::GatewayStatus;
use wa_store::Store;

pub struct CoreState {
    gateway: RwLock<GatewayStatus>,
    store: OnceLock<Store>,
}

impl Default for CoreState {
    fn default() -> Self {
        Self::new()
    }
}

impl CoreState {
    pub fn new() -> Self {
        CoreState {
            gateway: RwLock::new(GatewayStatus::Uninitialized),
            store: OnceLock::new(),
        }
    }

    /// Once the database is open the coreapp is initialized; with no registration stored
    /// (registration does not exist yet) it is `unregistered`.
    pub fn attach_store(&self, store: Store) {
        if self.store.set(store).is_ok() {
            self.set_gateway(GatewayStatus::Unregistered);
        }
    }

    pub fn gateway(&self) -> GatewayStatus {
        *self.gateway.read().unwrap_or_else(|e| e.into_inner())
    }

    fn set_gateway(&self, status: GatewayStatus) {
        *self.gateway.write().unwrap_or_else(|e| e.into_inner()) = status;
    }
}
