//! The network's side of product messages and app capabilities, over the protocol: lookups for
//! the coreapp, and the same catalog rules applied again at delivery (a coreapp's check may be
//! older than the catalog).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Net, BUSINESS, CONSUMER};
use serde_json::{json, Value};
use wa_netproto::catalogs::{Availability, ProductLookup};
use wa_netproto::{ReceiptStatus, Request, Response};

fn product_list(catalog_id: &str, skus: &[&str]) -> Value {
    let items: Vec<Value> = skus
        .iter()
        .map(|sku| json!({"product_retailer_id": sku}))
        .collect();
    json!({"type": "interactive", "interactive": {"type": "product_list", "body": {"text": "Pick"},
        "action": {"catalog_id": catalog_id, "sections": [{"title": "S", "product_items": items}]}}})
}

#[tokio::test]
async fn the_seeded_catalog_is_looked_up_for_the_registered_business() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    let ask = |ids: &[&str]| Request::LookupProducts {
        catalog_id: "123456789".into(),
        product_retailer_ids: ids.iter().map(|s| s.to_string()).collect(),
    };
    let Response::Products { lookup } = session.request(ask(&["SKU-1", "SKU-99"])).await.unwrap()
    else {
        panic!("not a product lookup")
    };
    let ProductLookup {
        catalog_found,
        linked,
        products,
        ..
    } = lookup;
    assert!(catalog_found && linked);
    let availability: Vec<Availability> = products.iter().map(|p| p.availability).collect();
    assert_eq!(
        availability,
        [Availability::Sendable, Availability::Missing]
    );
    let error = session.request(ask(&[])).await.unwrap_err();
    assert_eq!(error.code, 1009);
}

#[tokio::test]
async fn delivery_drops_unsendable_products_and_warns() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    net.consumer_says(CONSUMER, "hi").await;
    let send = |id: &str, message: Value| Request::SendMessage {
        id: id.into(),
        to: CONSUMER.into(),
        message,
    };
    let partial = product_list("123456789", &["SKU-1", "SKU-99"]);
    session.request(send("gBGGpartial", partial)).await.unwrap();
    let (status, error) = session.receipt_for("gBGGpartial").await;
    assert_eq!(status, ReceiptStatus::Warning);
    let error = error.unwrap();
    assert_eq!(
        (error.code, error.title.as_str()),
        (2026, "Missing products")
    );
    assert_eq!(
        session.receipt_for("gBGGpartial").await.0,
        ReceiptStatus::Delivered
    );
    let phone = net.consumer(CONSUMER).await;
    let items = &phone["received"][0]["message"]["interactive"]["action"]["sections"][0];
    assert_eq!(
        items["product_items"],
        json!([{"product_retailer_id": "SKU-1"}])
    );

    // Not checked by a coreapp (or the catalog went away since): the network refuses it.
    let unknown = product_list("404", &["SKU-1"]);
    session.request(send("gBGGunknown", unknown)).await.unwrap();
    let (status, error) = session.receipt_for("gBGGunknown").await;
    assert_eq!(status, ReceiptStatus::Failed);
    assert_eq!(error.unwrap().code, 2024);
    assert_eq!(net.business(BUSINESS).await["accepted_messages"], 2);
}

#[tokio::test]
async fn capabilities_follow_the_profile() {
    let net = Net::start().await;
    let credentials = net.register_business().await;
    let mut session = net.business_session(&credentials).await;
    let (status, body) = net
        .post(
            "/control/profiles",
            json!({"prefix": "4474", "profile": "no_template_buttons"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    for (wa_id, shows) in [(CONSUMER, true), ("447400900123", false)] {
        let request = Request::GetCapabilities {
            wa_id: wa_id.into(),
        };
        let reply = session.request(request).await.unwrap();
        assert_eq!(
            reply,
            Response::Capabilities {
                wa_id: wa_id.into(),
                template_buttons: shows
            }
        );
    }
}
