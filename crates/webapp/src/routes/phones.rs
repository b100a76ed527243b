//! The console's Phones page: the simulated network's consumers, what their phones received and
//! sent, and their answers, through the control API of `webapp.network_control_url`. Exactly the
//! calls the page makes, nothing more: the control API has no authentication and must not be
//! reachable through the webapp beyond them. Administrators only, refused as the webhook inbox
//! refuses (inspector.rs).

use super::inspector::{client, control_base, unreachable};
use crate::auth::AuthUser;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::Value;
use wa_api::{ApiError, ErrorCode};

/// Longest wa_id a phone number can give (15 digits in E.164) with room for mistakes.
const MAX_WA_ID_DIGITS: usize = 20;

/// `GET /console/consumers`: the consumers the network keeps, newest activity first.
pub async fn list(caller: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let base = control_base(&caller, &state)?;
    relay(client().get(format!("{base}/control/consumers"))).await
}

/// `GET /console/consumers/{wa_id}`: one phone, its received and sent messages.
pub async fn show(
    caller: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let base = control_base(&caller, &state)?;
    let wa_id = wa_id(&path)?;
    relay(client().get(format!("{base}/control/consumers/{wa_id}"))).await
}

/// `POST /console/consumers`: a new consumer, or another profile or name for one.
pub async fn upsert(
    caller: AuthUser,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let base = control_base(&caller, &state)?;
    let body = json_object(&body)?;
    relay(
        client()
            .post(format!("{base}/control/consumers"))
            .json(&body),
    )
    .await
}

/// `POST /console/consumers/{wa_id}/messages`: the consumer writes or answers.
pub async fn send(
    caller: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let base = control_base(&caller, &state)?;
    let wa_id = wa_id(&path)?;
    let body = json_object(&body)?;
    let url = format!("{base}/control/consumers/{wa_id}/messages");
    relay(client().post(url).json(&body)).await
}

/// `GET /console/media/{id}`: a file a phone received, so the page can show an image or offer
/// a document for download.
pub async fn media(
    caller: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let base = control_base(&caller, &state)?;
    let id = path.as_str();
    // Only what media ids are made of, so the id cannot reach another control path.
    let valid = !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        return Err(ApiError::invalid_parameter("id", id));
    }
    let response = client()
        .get(format!("{base}/control/media/{id}/bytes"))
        .send()
        .await
        .map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(control_error(response).await);
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let bytes = response.bytes().await.map_err(unreachable)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        // Whatever the phone received is shown, never run: no sniffing it into a script.
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // Opened on its own (a document's link), an HTML or SVG file must not run on the
        // console's origin, where the admin's token lives.
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        ))
        .insert_header((header::CONTENT_DISPOSITION, "inline"))
        .body(bytes))
}

/// A wa_id as the control API takes it: digits, an optional `+` in front.
fn wa_id(input: &str) -> Result<String, ApiError> {
    let digits = input.trim().trim_start_matches('+');
    if digits.is_empty()
        || digits.len() > MAX_WA_ID_DIGITS
        || !digits.chars().all(|c| c.is_ascii_digit())
    {
        return Err(ApiError::invalid_parameter("wa_id", input));
    }
    Ok(digits.to_string())
}

fn json_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(ApiError::invalid_json()),
    }
}

/// Sends the request and answers with the control API's JSON and status; its refusals become
/// the API's error shape (400 → 1009, 404 → 1006), with the network's explanation as details.
async fn relay(request: reqwest::RequestBuilder) -> Result<HttpResponse, ApiError> {
    let response = request.send().await.map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(control_error(response).await);
    }
    let status = actix_web::http::StatusCode::from_u16(response.status().as_u16())
        .unwrap_or(actix_web::http::StatusCode::OK);
    let answer: Value = response.json().await.map_err(unreachable)?;
    Ok(HttpResponse::build(status).json(answer))
}

async fn control_error(response: reqwest::Response) -> ApiError {
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    let details = answer
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("the network's control API refused the request")
        .to_string();
    match status.as_u16() {
        404 => ApiError::new(ErrorCode::ResourceNotFound, details),
        400..=499 => ApiError::new(ErrorCode::ParameterValueInvalid, details),
        _ => ApiError::internal(format!("The network's control API failed: {details}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wa_ids_are_digits_only() {
        assert_eq!(wa_id("+447400900999").unwrap(), "447400900999");
        for bad in [
            "",
            "+",
            "44 74",
            "../webhooks",
            "1234567890123456789012",
            "12a",
        ] {
            assert_eq!(wa_id(bad).unwrap_err().first_code(), 1009, "{bad}");
        }
    }

    #[test]
    fn bodies_must_be_json_objects() {
        assert!(json_object(br#"{"type": "text"}"#).is_ok());
        for bad in [&b"[1]"[..], b"nope", b""] {
            assert_eq!(json_object(bad).unwrap_err().first_code(), 1025);
        }
    }
}
