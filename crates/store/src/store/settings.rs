//! Configuration values, named blobs and the registration: what every process must see alike.

use super::Store;
use crate::tables::registration::{self, Registration};
use crate::tables::{blobs, config_values};
use crate::StoreError;

impl Store {
    pub async fn get_config_value(&self, name: &str) -> Result<Option<String>, StoreError> {
        let (name, sealer) = (name.to_string(), self.sealer().clone());
        self.run(move |conn| config_values::get(conn, &sealer, &name))
            .await
    }

    /// Stores `value` under `name`, replacing any previous value; the last writer wins.
    pub async fn put_config_value(&self, name: &str, value: String) -> Result<(), StoreError> {
        config_values::check_sizes(name, &value)?;
        let stored = config_values::to_store(self.sealer(), name, &value)?;
        let name = name.to_string();
        self.run(move |conn| config_values::upsert(conn, &name, &stored))
            .await
    }

    /// Returns false when nothing was stored under `name`.
    pub async fn delete_config_value(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_string();
        self.run(move |conn| config_values::delete(conn, &name))
            .await
    }

    pub async fn get_blob(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let name = name.to_string();
        self.run(move |conn| blobs::get(conn, &name)).await
    }

    /// Stores `data` under `name`, replacing any previous value.
    pub async fn put_blob(&self, name: &str, data: Vec<u8>) -> Result<(), StoreError> {
        blobs::check_size(name, &data)?;
        let name = name.to_string();
        self.run(move |conn| blobs::put(conn, &name, &data)).await
    }

    /// Returns false when nothing was stored under `name`.
    pub async fn delete_blob(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_string();
        self.run(move |conn| blobs::delete(conn, &name)).await
    }

    pub async fn registration(&self) -> Result<Option<Registration>, StoreError> {
        let sealer = self.sealer().clone();
        self.run(move |conn| registration::find(conn, &sealer))
            .await
    }

    /// Replaces the registration (a re-registration issues new credentials).
    pub async fn save_registration(&self, reg: Registration) -> Result<(), StoreError> {
        let sealer = self.sealer().clone();
        self.run(move |conn| registration::save(conn, &sealer, &reg))
            .await
    }

    /// Deregisters the number (`Some(seconds)`) or registers it again (`None`) without touching
    /// its credentials; false when no number is registered.
    pub async fn set_deregistered(&self, at: Option<i64>) -> Result<bool, StoreError> {
        self.run(move |conn| registration::set_deregistered(conn, at))
            .await
    }
}
