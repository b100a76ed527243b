//! Product messages (`interactive` `product` / `product_list`) against the catalogs the network
//! keeps (spec onprem-messaging §2.4.5, codes 2024–2030).
//!
//! The coreapp asks the network about the message's products on every product send instead of
//! caching catalogs: a catalog may hold far more products than a message names, product sends are
//! rare next to text and templates, and an answer from the network is never stale (a product
//! removed in Commerce Manager is refused at once). The cost is one round trip per product send.
//!
//! A send nothing of which can go is refused here, before the 201. A partly sendable list is
//! accepted as sent; the network delivers the sendable products and reports the others in a
//! `warning` status (`inbound.rs`).

use crate::state::CoreState;
use crate::util::failure::not_ready;
use serde_json::Value;
use wa_api::{ApiError, ErrorCode};
use wa_netproto::catalogs::{assess, product_request, CatalogIssue};
use wa_netproto::{Request, Response};

/// Refuses a product message whose catalog is unknown or not linked, or none of whose products
/// can be sent. Other messages pass untouched.
pub async fn check(state: &CoreState, network_message: &Value) -> Result<(), ApiError> {
    let Some(request) = network_message.get("interactive").and_then(product_request) else {
        return Ok(());
    };
    let session = state
        .session()
        .filter(|_| state.is_ready())
        .ok_or_else(|| not_ready("product lookup"))?;
    let ask = Request::LookupProducts {
        catalog_id: request.catalog_id,
        product_retailer_ids: request.product_retailer_ids,
    };
    let lookup = match session.request(ask).await.map_err(ApiError::from)? {
        Response::Products { lookup } => lookup,
        other => {
            return Err(ApiError::internal(format!(
                "unexpected answer to the product lookup: {other:?}"
            )))
        }
    };
    assess(&lookup).map(|_| ()).map_err(to_api_error)
}

fn to_api_error(issue: CatalogIssue) -> ApiError {
    let code = ErrorCode::from_code(issue.code).unwrap_or(ErrorCode::GenericError);
    ApiError::new(code, issue.details)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The network titles its receipts from `wa_netproto`; webhooks must carry the API's titles.
    #[test]
    fn network_titles_match_the_api_table() {
        for code in 2024..=2030 {
            let api = ErrorCode::from_code(code).map(ErrorCode::title);
            assert_eq!(
                Some(wa_netproto::catalogs::error_title(code)),
                api,
                "{code}"
            );
        }
        for code in [1009, 2000, 2001, 2003, 2004, 2005, 2006, 2007, 2008, 2009]
            .into_iter()
            .chain([2010, 2011, 2012, 2013, 2060, 2061, 2062])
        {
            let api = ErrorCode::from_code(code).map(ErrorCode::title);
            assert_eq!(
                Some(wa_netproto::templates::error_title(code)),
                api,
                "{code}"
            );
        }
    }

    #[test]
    fn catalog_issues_keep_their_code_and_details() {
        let e = to_api_error(CatalogIssue {
            code: 2025,
            details: "Catalog '1' is not linked to this phone number".into(),
        });
        assert_eq!(e.first_code(), 2025);
        assert_eq!(e.status, 400);
        assert_eq!(
            e.errors[0].details.as_deref(),
            Some("Catalog '1' is not linked to this phone number")
        );
    }
}
