//! The catalog operations of the network: the coreapp's product look-ups and the control API's
//! catalog edits.

use crate::base::errors::{invalid_parameter, ControlError};
use crate::model::catalogs::{checked_catalog, Catalog, CatalogInput};
use crate::network::Network;
use wa_netproto::catalogs::ProductRequest;
use wa_netproto::{NetError, Response};

impl Network {
    /// The coreapp's `LookupProducts` request.
    pub fn lookup_products(
        &self,
        business: &str,
        catalog_id: String,
        product_retailer_ids: Vec<String>,
    ) -> Result<Response, NetError> {
        if catalog_id.is_empty() || product_retailer_ids.is_empty() {
            return Err(invalid_parameter(
                "a catalog id and at least one product are required",
            ));
        }
        let request = ProductRequest {
            catalog_id,
            product_retailer_ids,
        };
        let lookup = self.world().catalogs.lookup(business, &request);
        Ok(Response::Products { lookup })
    }

    pub fn catalogs(&self) -> Vec<Catalog> {
        self.world().catalogs.by_id.values().cloned().collect()
    }

    pub fn catalog(&self, catalog_id: &str) -> Option<Catalog> {
        self.world().catalogs.by_id.get(catalog_id).cloned()
    }

    /// Creates or replaces a catalog; true when it is new.
    pub fn put_catalog(
        &self,
        catalog_id: &str,
        input: CatalogInput,
    ) -> Result<(Catalog, bool), ControlError> {
        let catalog = checked_catalog(catalog_id, input)?;
        let created = self
            .world()
            .catalogs
            .by_id
            .insert(catalog_id.to_string(), catalog.clone())
            .is_none();
        Ok((catalog, created))
    }

    pub fn delete_catalog(&self, catalog_id: &str) -> bool {
        self.world().catalogs.by_id.remove(catalog_id).is_some()
    }
}
