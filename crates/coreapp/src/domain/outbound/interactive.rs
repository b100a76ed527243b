//! `interactive` (spec §2.4.5): `list`, `button`, `product`, `product_list` with their limits.

use super::fields::{
    display, element, exactly_one, limited_str, mandatory_for, not_required_for, optional_object,
    required_array, required_limited, required_object, required_str, too_long, url, Object,
};
use serde_json::Value;
use std::collections::HashSet;
use wa_api::{ApiError, ErrorCode};

const KINDS: &[&str] = &["list", "button", "product", "product_list"];
use wa_api::limits::{
    INTERACTIVE_BODY_CHARS as MAX_BODY_CHARS, INTERACTIVE_FOOTER_CHARS as MAX_FOOTER_CHARS,
    INTERACTIVE_HEADER_CHARS as MAX_HEADER_CHARS, LIST_BUTTON_CHARS as MAX_LIST_BUTTON_CHARS,
    REPLY_ID_CHARS as MAX_REPLY_ID_CHARS, REPLY_TITLE_CHARS as MAX_REPLY_TITLE_CHARS,
    ROW_DESCRIPTION_CHARS as MAX_ROW_DESCRIPTION_CHARS, ROW_ID_CHARS as MAX_ROW_ID_CHARS,
    ROW_TITLE_CHARS as MAX_ROW_TITLE_CHARS, SECTION_TITLE_CHARS as MAX_SECTION_TITLE_CHARS,
};
const MAX_SECTIONS: usize = 10;
const MAX_ROWS: usize = 10;
const MAX_REPLY_BUTTONS: usize = 3;
const MAX_PRODUCTS: usize = 30;

/// Checks the interactive object; it goes to the network as sent.
pub fn interactive_object(interactive: &Object) -> Result<Value, ApiError> {
    let kind = required_str(interactive, "type")?;
    if !KINDS.contains(&kind) {
        return Err(ApiError::invalid_parameter("type", kind));
    }
    check_header(interactive, kind)?;
    check_body(interactive, kind)?;
    if let Some(footer) = optional_object(interactive, "footer")? {
        required_limited(footer, "text", MAX_FOOTER_CHARS)?;
    }
    let action = optional_object(interactive, "action")?
        .ok_or_else(|| mandatory_for("action", "interactive type", kind))?;
    match kind {
        "list" => check_list(action)?,
        "button" => check_buttons(action)?,
        "product" => check_product(action)?,
        _ => check_product_list(action)?,
    }
    Ok(Value::Object(interactive.clone()))
}

fn header_error(details: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidHeaderStructure, details)
}

/// Text headers everywhere but `product`; media headers only on reply buttons (2036 otherwise).
fn check_header(interactive: &Object, kind: &str) -> Result<(), ApiError> {
    let Some(header) = interactive.get("header").filter(|h| !h.is_null()) else {
        return Ok(());
    };
    if kind == "product" {
        return Err(not_required_for("header", "interactive type", kind));
    }
    let header = header
        .as_object()
        .ok_or_else(|| header_error("The header must be an object"))?;
    let header_type = header
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| header_error("The header needs a 'type'"))?;
    match header_type {
        "text" => {
            let text = header.get("text").and_then(Value::as_str).unwrap_or("");
            if text.trim().is_empty() {
                return Err(header_error("A text header needs a 'text'"));
            }
            if text.chars().count() > MAX_HEADER_CHARS {
                return Err(too_long("text", MAX_HEADER_CHARS));
            }
            Ok(())
        }
        "image" | "video" | "document" if kind == "button" => {
            let media = header
                .get(header_type)
                .and_then(Value::as_object)
                .ok_or_else(|| {
                    header_error(format!(
                        "Header type '{header_type}' needs a '{header_type}' object"
                    ))
                })?;
            exactly_one(media, "id", "link")?;
            url(media, "link")?;
            Ok(())
        }
        other => Err(header_error(format!(
            "Header type '{}' is not allowed for interactive type '{kind}'",
            wa_api::error::echoed(other)
        ))),
    }
}

fn check_body(interactive: &Object, kind: &str) -> Result<(), ApiError> {
    match optional_object(interactive, "body")? {
        Some(body) => required_limited(body, "text", MAX_BODY_CHARS).map(|_| ()),
        None if kind == "product" => Ok(()),
        None => Err(mandatory_for("body", "interactive type", kind)),
    }
}

fn sections_error() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidNumberOfSections,
        format!("Between 1 and {MAX_SECTIONS} sections are allowed; each needs a title when there are several"),
    )
}

/// 1 to 10 sections; titles required when there are several.
fn sections(action: &Object) -> Result<&[Value], ApiError> {
    let sections = required_array(action, "sections")?;
    if sections.is_empty() || sections.len() > MAX_SECTIONS {
        return Err(sections_error());
    }
    for section in sections {
        let section = element(section, "sections")?;
        let title = limited_str(section, "title", MAX_SECTION_TITLE_CHARS)?;
        if sections.len() > 1 && title.is_none_or(|t| t.trim().is_empty()) {
            return Err(sections_error());
        }
    }
    Ok(sections)
}

fn check_list(action: &Object) -> Result<(), ApiError> {
    required_limited(action, "button", MAX_LIST_BUTTON_CHARS)?;
    let mut ids = HashSet::new();
    let mut total = 0;
    for section in sections(action)? {
        let rows = section.get("rows").and_then(Value::as_array);
        let rows = rows.filter(|r| !r.is_empty()).ok_or_else(rows_error)?;
        total += rows.len();
        for row in rows {
            let row = element(row, "rows")?;
            let id = required_limited(row, "id", MAX_ROW_ID_CHARS)?;
            if !ids.insert(id) {
                return Err(ApiError::invalid_parameter("id", id));
            }
            required_limited(row, "title", MAX_ROW_TITLE_CHARS)?;
            limited_str(row, "description", MAX_ROW_DESCRIPTION_CHARS)?;
        }
    }
    if total > MAX_ROWS {
        return Err(rows_error());
    }
    Ok(())
}

fn rows_error() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidNumberOfRows,
        format!(
            "Every section needs at least 1 row, and at most {MAX_ROWS} rows are allowed in all"
        ),
    )
}

fn check_buttons(action: &Object) -> Result<(), ApiError> {
    let buttons = required_array(action, "buttons")?;
    if buttons.is_empty() || buttons.len() > MAX_REPLY_BUTTONS {
        return Err(ApiError::invalid_parameter(
            "buttons",
            &display(&Value::Array(buttons.to_vec())),
        ));
    }
    let (mut ids, mut titles) = (HashSet::new(), HashSet::new());
    for button in buttons {
        let button = element(button, "buttons")?;
        let button_type = required_str(button, "type")?;
        if button_type != "reply" {
            return Err(ApiError::invalid_parameter("type", button_type));
        }
        let reply = required_object(button, "reply")?;
        let id = required_limited(reply, "id", MAX_REPLY_ID_CHARS)?;
        let title = required_limited(reply, "title", MAX_REPLY_TITLE_CHARS)?;
        if !ids.insert(id) {
            return Err(ApiError::invalid_parameter("id", id));
        }
        if !titles.insert(title) {
            return Err(ApiError::invalid_parameter("title", title));
        }
    }
    Ok(())
}

fn check_product(action: &Object) -> Result<(), ApiError> {
    required_limited(action, "catalog_id", MAX_ROW_ID_CHARS)?;
    required_limited(action, "product_retailer_id", MAX_ROW_ID_CHARS)?;
    Ok(())
}

fn check_product_list(action: &Object) -> Result<(), ApiError> {
    required_limited(action, "catalog_id", MAX_ROW_ID_CHARS)?;
    let mut total = 0;
    for section in sections(action)? {
        let items = section.get("product_items").and_then(Value::as_array);
        let items = items.filter(|i| !i.is_empty()).ok_or_else(products_error)?;
        total += items.len();
        for item in items {
            required_limited(
                element(item, "product_items")?,
                "product_retailer_id",
                MAX_ROW_ID_CHARS,
            )?;
        }
    }
    if total > MAX_PRODUCTS {
        return Err(products_error());
    }
    Ok(())
}

fn products_error() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidNumberOfProducts,
        format!("Every section needs at least 1 product, and at most {MAX_PRODUCTS} products are allowed in all"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: Value) -> u32 {
        interactive_object(v.as_object().unwrap()).map_or_else(|e| e.first_code(), |_| 0)
    }

    fn list(sections: Value) -> Value {
        json!({"type": "list", "body": {"text": "Pick"}, "action": {"button": "Options", "sections": sections}})
    }

    fn rows(n: usize) -> Value {
        Value::Array(
            (0..n)
                .map(|i| json!({"id": format!("r{i}"), "title": "Row"}))
                .collect(),
        )
    }

    #[test]
    fn list_limits() {
        assert_eq!(check(list(json!([{"title": "S", "rows": rows(10)}]))), 0);
        assert_eq!(check(list(json!([{"title": "S", "rows": rows(11)}]))), 2016);
        assert_eq!(check(list(json!([{"title": "S", "rows": []}]))), 2016);
        assert_eq!(check(list(json!([]))), 2015);
        let eleven: Vec<Value> = (0..11).map(|i| json!({"title": format!("S{i}"), "rows": [{"id": format!("{i}"), "title": "R"}]})).collect();
        assert_eq!(check(list(Value::Array(eleven))), 2015);
        assert_eq!(
            check(list(
                json!([{"rows": rows(1)}, {"title": "B", "rows": [{"id": "x", "title": "R"}]}])
            )),
            2015
        );
        assert_eq!(
            check(list(
                json!([{"rows": [{"id": "a", "title": "x".repeat(25)}]}])
            )),
            1009
        );
        assert_eq!(
            check(list(
                json!([{"rows": [{"id": "a", "title": "R"}, {"id": "a", "title": "S"}]}])
            )),
            1009
        );
        let no_button = json!({"type": "list", "body": {"text": "b"}, "action": {"sections": [{"rows": rows(1)}]}});
        assert_eq!(check(no_button), 1008);
    }

    #[test]
    fn button_limits_and_headers() {
        let button = |n: usize, header: Value| {
            let buttons: Vec<Value> = (0..n).map(|i| json!({"type": "reply", "reply": {"id": format!("b{i}"), "title": format!("B{i}")}})).collect();
            json!({"type": "button", "header": header, "body": {"text": "Continue?"}, "action": {"buttons": buttons}})
        };
        assert_eq!(check(button(3, json!({"type": "text", "text": "H"}))), 0);
        assert_eq!(
            check(button(
                2,
                json!({"type": "image", "image": {"link": "https://a.example/p.jpg"}})
            )),
            0
        );
        assert_eq!(check(button(4, Value::Null)), 1009);
        assert_eq!(check(button(0, Value::Null)), 1009);
        assert_eq!(check(button(1, json!({"type": "image"}))), 2036);
        assert_eq!(check(button(1, json!({"type": "sticker"}))), 2036);
        assert_eq!(check(button(1, json!("text"))), 2036);
        let no_body = json!({"type": "button", "action": {"buttons": []}});
        assert_eq!(check(no_body), 1008);
        assert_eq!(check(json!({"type": "carousel"})), 1009);
        let media_list_header = json!({"type": "list", "header": {"type": "image", "image": {"id": "x"}}, "body": {"text": "b"}, "action": {"button": "o", "sections": [{"rows": rows(1)}]}});
        assert_eq!(check(media_list_header), 2036);
    }

    #[test]
    fn product_limits() {
        let product =
            json!({"type": "product", "action": {"catalog_id": "1", "product_retailer_id": "SKU"}});
        assert_eq!(check(product), 0);
        let no_sku = json!({"type": "product", "action": {"catalog_id": "1"}});
        assert_eq!(check(no_sku), 1008);
        let items = |n: usize| {
            Value::Array(
                (0..n)
                    .map(|i| json!({"product_retailer_id": format!("SKU-{i}")}))
                    .collect(),
            )
        };
        let list = |items: Value| json!({"type": "product_list", "header": {"type": "text", "text": "Picks"}, "body": {"text": "b"}, "action": {"catalog_id": "1", "sections": [{"title": "S", "product_items": items}]}});
        assert_eq!(check(list(items(30))), 0);
        assert_eq!(check(list(items(31))), 2023);
        assert_eq!(check(list(items(0))), 2023);
    }
}
