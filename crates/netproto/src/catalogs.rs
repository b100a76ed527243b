//! Product messages against catalogs (spec onprem-messaging §2.4.5, codes 2024–2030): which of
//! the products an `interactive` `product` / `product_list` names can be sent. wanet knows the
//! catalogs and answers a [`ProductLookup`]; both sides then apply the same [`assess`]: the
//! coreapp refuses a send nothing of which can go (before it answers 201), and wanet delivers
//! only the sendable products and reports the rest in a `warning` receipt.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;

/// What a product message asks of a catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRequest {
    pub catalog_id: String,
    /// In message order; a product named twice is listed twice.
    pub product_retailer_ids: Vec<String>,
}

/// What the network knows of the catalog and products a message names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductLookup {
    pub catalog_id: String,
    /// Whether a catalog with this id exists at all.
    pub catalog_found: bool,
    /// Whether it is linked to the business number that sends.
    pub linked: bool,
    /// The requested products in request order (empty when the catalog is unknown).
    pub products: Vec<ProductState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductState {
    pub product_retailer_id: String,
    pub availability: Availability,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    Sendable,
    /// No product with this retailer id in the catalog.
    Missing,
    /// In the catalog, but it failed Meta's commerce policy review.
    NonCompliant,
}

/// A catalog problem: an On-Prem code and the `details` text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogIssue {
    pub code: u32,
    pub details: String,
}

impl CatalogIssue {
    /// The issue as the network reports it in a `failed` or `warning` receipt.
    pub fn to_net_error(&self) -> crate::NetError {
        crate::NetError::new(self.code, error_title(self.code)).with_details(self.details.clone())
    }
}

/// Titles of the catalog codes (spec §8.3; the same table as the API's).
pub fn error_title(code: u32) -> &'static str {
    match code {
        2024 => "Catalog ID not found",
        2025 => "Catalog ID not linked to API number",
        2026 => "Missing products",
        2027 => "No products found",
        2028 => "List all products failed compliance",
        2029 => "List some products failed compliance",
        2030 => "List mixed products invalid and failed compliance",
        _ => "Generic error",
    }
}

/// A send that can go: the products the phone gets, and the issues a `warning` status reports
/// (2026 for missing products, 2029 for non-compliant ones; both when both happened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub sendable: Vec<String>,
    pub warnings: Vec<CatalogIssue>,
}

/// The catalog and products of an `interactive` object of type `product` or `product_list`;
/// `None` for other kinds (lists and buttons name no catalog).
pub fn product_request(interactive: &Value) -> Option<ProductRequest> {
    let action = interactive.get("action")?;
    let catalog_id = action.get("catalog_id")?.as_str()?.to_string();
    let retailer_id = |item: &Value| {
        item.get("product_retailer_id")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let product_retailer_ids = match interactive.get("type")?.as_str()? {
        "product" => vec![retailer_id(action)?],
        "product_list" => action
            .get("sections")?
            .as_array()?
            .iter()
            .filter_map(|s| s.get("product_items").and_then(Value::as_array))
            .flatten()
            .filter_map(retailer_id)
            .collect(),
        _ => return None,
    };
    Some(ProductRequest {
        catalog_id,
        product_retailer_ids,
    })
}

/// Applies the catalog rules: 2024 unknown catalog, 2025 not linked to the number; with no
/// sendable product 2027 (all missing), 2028 (all non-compliant) or 2030 (a mix of both).
pub fn assess(lookup: &ProductLookup) -> Result<Verdict, CatalogIssue> {
    let catalog = &lookup.catalog_id;
    if !lookup.catalog_found {
        return Err(issue(2024, format!("Catalog '{catalog}' does not exist")));
    }
    if !lookup.linked {
        return Err(issue(
            2025,
            format!("Catalog '{catalog}' is not linked to this phone number"),
        ));
    }
    let with = |wanted: Availability| -> Vec<String> {
        lookup
            .products
            .iter()
            .filter(|p| p.availability == wanted)
            .map(|p| p.product_retailer_id.clone())
            .collect()
    };
    let (sendable, missing, non_compliant) = (
        with(Availability::Sendable),
        with(Availability::Missing),
        with(Availability::NonCompliant),
    );
    let missing_issue = |code| {
        issue(
            code,
            listed("Products not found in catalog", catalog, &missing),
        )
    };
    let non_compliant_issue = |code| {
        issue(
            code,
            listed(
                "Products that failed compliance in catalog",
                catalog,
                &non_compliant,
            ),
        )
    };
    if sendable.is_empty() {
        return Err(match (missing.is_empty(), non_compliant.is_empty()) {
            (false, true) => missing_issue(2027),
            (true, false) => non_compliant_issue(2028),
            (false, false) => issue(
                2030,
                format!(
                    "No product can be sent: {}; {}",
                    missing_issue(0).details,
                    non_compliant_issue(0).details
                ),
            ),
            // Validation guarantees at least one product; answer sanely all the same.
            (true, true) => issue(
                2027,
                format!("No products were named for catalog '{catalog}'"),
            ),
        });
    }
    let mut warnings = Vec::new();
    if !missing.is_empty() {
        warnings.push(missing_issue(2026));
    }
    if !non_compliant.is_empty() {
        warnings.push(non_compliant_issue(2029));
    }
    Ok(Verdict { sendable, warnings })
}

fn issue(code: u32, details: String) -> CatalogIssue {
    CatalogIssue { code, details }
}

fn listed(what: &str, catalog: &str, ids: &[String]) -> String {
    format!("{what} '{catalog}': {}", ids.join(", "))
}

/// Drops from a `product_list` the products that cannot be sent, and the sections left empty,
/// so the phone shows only what it can open. A single `product` is sendable or refused whole.
pub fn keep_only(interactive: &mut Value, sendable: &[String]) {
    let keep: HashSet<&str> = sendable.iter().map(String::as_str).collect();
    let Some(sections) = interactive
        .get_mut("action")
        .and_then(|a| a.get_mut("sections"))
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for section in sections.iter_mut() {
        if let Some(items) = section
            .get_mut("product_items")
            .and_then(Value::as_array_mut)
        {
            items.retain(|item| {
                item.get("product_retailer_id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| keep.contains(id))
            });
        }
    }
    sections.retain(|s| {
        s.get("product_items")
            .and_then(Value::as_array)
            .is_some_and(|items| !items.is_empty())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lookup(products: &[(&str, Availability)]) -> ProductLookup {
        ProductLookup {
            catalog_id: "123".into(),
            catalog_found: true,
            linked: true,
            products: products
                .iter()
                .map(|(id, availability)| ProductState {
                    product_retailer_id: id.to_string(),
                    availability: *availability,
                })
                .collect(),
        }
    }

    fn code(lookup: &ProductLookup) -> u32 {
        assess(lookup).err().map_or(0, |e| e.code)
    }

    fn warning_codes(lookup: &ProductLookup) -> Vec<u32> {
        assess(lookup)
            .map(|v| v.warnings.iter().map(|w| w.code).collect())
            .unwrap_or_default()
    }

    use Availability::{Missing, NonCompliant, Sendable};

    #[test]
    fn unknown_and_unlinked_catalogs_are_refused_first() {
        let mut unknown = lookup(&[("A", Sendable)]);
        unknown.catalog_found = false;
        assert_eq!(code(&unknown), 2024);
        let mut unlinked = lookup(&[("A", Sendable)]);
        unlinked.linked = false;
        assert_eq!(code(&unlinked), 2025);
    }

    #[test]
    fn nothing_sendable_is_refused_with_the_reason() {
        assert_eq!(code(&lookup(&[("A", Missing), ("B", Missing)])), 2027);
        assert_eq!(
            code(&lookup(&[("A", NonCompliant), ("B", NonCompliant)])),
            2028
        );
        let mixed = lookup(&[("A", Missing), ("B", NonCompliant)]);
        assert_eq!(code(&mixed), 2030);
        let details = assess(&mixed).unwrap_err().details;
        assert!(
            details.contains("'123': A") && details.contains("'123': B"),
            "{details}"
        );
    }

    #[test]
    fn partly_sendable_lists_warn() {
        let verdict = assess(&lookup(&[("A", Sendable), ("B", Missing)])).unwrap();
        assert_eq!(verdict.sendable, ["A"]);
        assert_eq!(verdict.warnings[0].code, 2026);
        assert_eq!(
            verdict.warnings[0].details,
            "Products not found in catalog '123': B"
        );
        assert_eq!(
            warning_codes(&lookup(&[("A", Sendable), ("B", NonCompliant)])),
            [2029]
        );
        assert_eq!(
            warning_codes(&lookup(&[
                ("A", Sendable),
                ("B", Missing),
                ("C", NonCompliant)
            ])),
            [2026, 2029]
        );
        assert!(warning_codes(&lookup(&[("A", Sendable)])).is_empty());
    }

    #[test]
    fn products_are_read_from_both_kinds() {
        let single =
            json!({"type": "product", "action": {"catalog_id": "9", "product_retailer_id": "A"}});
        assert_eq!(
            product_request(&single),
            Some(ProductRequest {
                catalog_id: "9".into(),
                product_retailer_ids: vec!["A".into()]
            })
        );
        let list = json!({"type": "product_list", "action": {"catalog_id": "9", "sections": [
            {"title": "1", "product_items": [{"product_retailer_id": "A"}, {"product_retailer_id": "B"}]},
            {"title": "2", "product_items": [{"product_retailer_id": "C"}]}]}});
        assert_eq!(
            product_request(&list).unwrap().product_retailer_ids,
            ["A", "B", "C"]
        );
        let buttons = json!({"type": "button", "action": {"buttons": []}});
        assert_eq!(product_request(&buttons), None);
    }

    #[test]
    fn unsendable_products_and_empty_sections_are_dropped() {
        let mut list = json!({"type": "product_list", "action": {"catalog_id": "9", "sections": [
            {"title": "1", "product_items": [{"product_retailer_id": "A"}, {"product_retailer_id": "B"}]},
            {"title": "2", "product_items": [{"product_retailer_id": "C"}]}]}});
        keep_only(&mut list, &["B".to_string()]);
        assert_eq!(
            list["action"]["sections"],
            json!([{"title": "1", "product_items": [{"product_retailer_id": "B"}]}])
        );
    }

    #[test]
    fn lookups_round_trip_as_json() {
        let l = lookup(&[("A", NonCompliant)]);
        let json = serde_json::to_value(&l).unwrap();
        assert_eq!(json["products"][0]["availability"], "non_compliant");
        assert_eq!(serde_json::from_value::<ProductLookup>(json).unwrap(), l);
    }
}
