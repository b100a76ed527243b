//! Product catalogs (Commerce Manager's side): each catalog is linked to some business numbers
//! and holds products by retailer id, each compliant with the commerce policies or not. The
//! coreapp looks products up before it accepts a product message; at delivery the network applies
//! the same rules (`wa_netproto::catalogs`) to what it holds then.
//!
//! One catalog is seeded so demos and tests work without set-up: [`DEFAULT_CATALOG_ID`] ("Acme
//! Shop", `SKU-1` to `SKU-30`, all compliant), linked to every business that registers.

use crate::base::errors::ControlError;
use crate::base::phone;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use wa_netproto::catalogs::{Availability, ProductLookup, ProductRequest, ProductState};

/// The seeded catalog's id (the one in Meta's samples).
pub const DEFAULT_CATALOG_ID: &str = "123456789";
/// Products in the seeded catalog: as many as one product list may show.
const DEFAULT_PRODUCTS: usize = 30;
/// Longest catalog or retailer id (the API's limit for both).
const MAX_ID_CHARS: usize = 200;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Catalog {
    pub catalog_id: String,
    pub name: String,
    /// Business numbers (wa_ids) that may send the catalog's products.
    pub linked_numbers: BTreeSet<String>,
    pub products: Vec<Product>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub product_retailer_id: String,
    /// False when the product failed the commerce policy review: it cannot be sent.
    #[serde(default = "compliant_by_default")]
    pub compliant: bool,
}

fn compliant_by_default() -> bool {
    true
}

/// What `PUT /control/catalogs/{catalog_id}` sets; the catalog is replaced as a whole.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogInput {
    pub name: Option<String>,
    #[serde(default)]
    pub linked_numbers: Vec<String>,
    #[serde(default)]
    pub products: Vec<Product>,
}

#[derive(Debug)]
pub struct Catalogs {
    pub(crate) by_id: BTreeMap<String, Catalog>,
}

impl Default for Catalogs {
    fn default() -> Self {
        let products = (1..=DEFAULT_PRODUCTS)
            .map(|n| Product {
                product_retailer_id: format!("SKU-{n}"),
                compliant: true,
            })
            .collect();
        let seeded = Catalog {
            catalog_id: DEFAULT_CATALOG_ID.to_string(),
            name: "Acme Shop".to_string(),
            linked_numbers: BTreeSet::new(),
            products,
        };
        Catalogs {
            by_id: BTreeMap::from([(seeded.catalog_id.clone(), seeded)]),
        }
    }
}

impl Catalogs {
    /// Every catalog, as stored.
    pub fn record(&self) -> Vec<Catalog> {
        self.by_id.values().cloned().collect()
    }

    /// The stored catalogs replace the seeded ones.
    pub fn restore(&mut self, catalogs: Vec<Catalog>) {
        self.by_id = catalogs
            .into_iter()
            .map(|c| (c.catalog_id.clone(), c))
            .collect();
    }

    /// A newly registered business is linked to the seeded catalog (if it still exists).
    pub fn link_default(&mut self, business: &str) {
        if let Some(catalog) = self.by_id.get_mut(DEFAULT_CATALOG_ID) {
            catalog.linked_numbers.insert(business.to_string());
        }
    }

    /// What the catalog says of each requested product, for `business`.
    pub fn lookup(&self, business: &str, request: &ProductRequest) -> ProductLookup {
        let Some(catalog) = self.by_id.get(&request.catalog_id) else {
            return ProductLookup {
                catalog_id: request.catalog_id.clone(),
                catalog_found: false,
                linked: false,
                products: Vec::new(),
            };
        };
        let products = request
            .product_retailer_ids
            .iter()
            .map(|id| ProductState {
                product_retailer_id: id.clone(),
                availability: catalog.availability_of(id),
            })
            .collect();
        ProductLookup {
            catalog_id: request.catalog_id.clone(),
            catalog_found: true,
            linked: catalog.linked_numbers.contains(business),
            products,
        }
    }
}

impl Catalog {
    fn availability_of(&self, retailer_id: &str) -> Availability {
        match self
            .products
            .iter()
            .find(|p| p.product_retailer_id == retailer_id)
        {
            None => Availability::Missing,
            Some(p) if p.compliant => Availability::Sendable,
            Some(_) => Availability::NonCompliant,
        }
    }
}

pub(crate) fn checked_catalog(
    catalog_id: &str,
    input: CatalogInput,
) -> Result<Catalog, ControlError> {
    let bad = |m: String| Err(ControlError::BadRequest(m));
    if !valid_id(catalog_id) {
        return bad(format!(
            "catalog_id must be 1 to {MAX_ID_CHARS} characters without spaces"
        ));
    }
    let mut linked_numbers = BTreeSet::new();
    for number in &input.linked_numbers {
        match phone::wa_id(number) {
            Some(wa_id) => linked_numbers.insert(wa_id),
            None => return bad(format!("'{number}' is not a valid phone number")),
        };
    }
    let mut seen = HashSet::new();
    for product in &input.products {
        let id = product.product_retailer_id.as_str();
        if !valid_id(id) {
            return bad(format!(
                "product_retailer_id '{id}' must be 1 to {MAX_ID_CHARS} characters without spaces"
            ));
        }
        if !seen.insert(id) {
            return bad(format!("product_retailer_id '{id}' is listed twice"));
        }
    }
    Ok(Catalog {
        catalog_id: catalog_id.to_string(),
        name: input
            .name
            .unwrap_or_else(|| format!("Catalog {catalog_id}")),
        linked_numbers,
        products: input.products,
    })
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.chars().count() <= MAX_ID_CHARS && !id.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(catalog_id: &str, ids: &[&str]) -> ProductRequest {
        ProductRequest {
            catalog_id: catalog_id.into(),
            product_retailer_ids: ids.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn the_seeded_catalog_serves_every_registered_business() {
        let mut catalogs = Catalogs::default();
        let ask = request(DEFAULT_CATALOG_ID, &["SKU-1", "SKU-30", "SKU-31"]);
        assert!(!catalogs.lookup("16315550000", &ask).linked);
        catalogs.link_default("16315550000");
        let lookup = catalogs.lookup("16315550000", &ask);
        assert!(lookup.catalog_found && lookup.linked);
        let availability: Vec<Availability> =
            lookup.products.iter().map(|p| p.availability).collect();
        assert_eq!(
            availability,
            [
                Availability::Sendable,
                Availability::Sendable,
                Availability::Missing
            ]
        );
        assert!(
            !catalogs
                .lookup("16315550000", &request("42", &["A"]))
                .catalog_found
        );
    }

    #[test]
    fn catalog_input_is_checked() {
        let input = |numbers: &[&str], products: serde_json::Value| CatalogInput {
            name: None,
            linked_numbers: numbers.iter().map(|s| s.to_string()).collect(),
            products: serde_json::from_value(products).unwrap(),
        };
        let ok = checked_catalog(
            "77",
            input(
                &["+1 631-555-0000"],
                serde_json::json!([{"product_retailer_id": "A"}, {"product_retailer_id": "B", "compliant": false}]),
            ),
        )
        .unwrap();
        assert!(ok.linked_numbers.contains("16315550000"));
        assert!(ok.products[0].compliant && !ok.products[1].compliant);
        assert!(checked_catalog("7 7", input(&[], serde_json::json!([]))).is_err());
        assert!(checked_catalog("77", input(&["12"], serde_json::json!([]))).is_err());
        let twice = serde_json::json!([{"product_retailer_id": "A"}, {"product_retailer_id": "A"}]);
        assert!(checked_catalog("77", input(&[], twice)).is_err());
        let empty = serde_json::json!([{"product_retailer_id": ""}]);
        assert!(checked_catalog("77", input(&[], empty)).is_err());
    }
}
