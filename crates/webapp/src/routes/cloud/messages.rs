//! `POST /{version}/{phone-number-id}/messages`: a send or a mark-as-read, translated into the
//! On-Prem call the coreapp answers (`wa_api::cloud::send`), answered in the Cloud shapes.

use super::caller::{authenticated, body_of, phone_number};
use crate::auth::AuthUser;
use crate::body::JsonParams;
use crate::coreapp::Forwarded;
use crate::routes::forward::{call_coreapp, CoreappCall};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use wa_api::cloud::send::{self, CloudRequest, CloudSend};
use wa_api::cloud::{CloudCode, CloudError};
use wa_api::rpc::{Endpoint, Method};
use wa_api::ApiError;

pub async fn post(
    req: HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: web::Data<AppState>,
    params: Result<JsonParams, ApiError>,
) -> Result<HttpResponse, CloudError> {
    authenticated(caller)?;
    if !phone_number(&state, &req).await?.registered {
        return Err(CloudError::new(
            CloudCode::NotRegistered,
            "The number was deregistered; register it with POST /{phone-number-id}/register",
        ));
    }
    match send::translate(body_of(params)?)? {
        CloudRequest::Send(request) => send_message(&state, request).await,
        CloudRequest::MarkRead { message_id } => mark_read(&state, &message_id).await,
    }
}

async fn send_message(
    state: &AppState,
    mut request: CloudSend,
) -> Result<HttpResponse, CloudError> {
    if let Some(template) = &request.template {
        let listed = succeeded(call(state, Endpoint::Templates, None).await?)?;
        let namespace = CloudSend::namespace_in(template, &listed)
            .ok_or_else(|| send::unknown_template(template))?;
        request.set_namespace(&namespace);
    }
    let body = Value::Object(request.body);
    let answer = succeeded(call(state, Endpoint::MessageSend, Some(body)).await?)?;
    Ok(HttpResponse::Ok().json(send::sent_answer(&answer)))
}

async fn mark_read(state: &AppState, message_id: &str) -> Result<HttpResponse, CloudError> {
    // A segment of dots would be read as `.` or `..` by the URL parser, whatever its encoding.
    if message_id.bytes().all(|b| b == b'.') {
        return Err(CloudError::invalid_parameter(
            "Invalid parameter message_id.",
        ));
    }
    let path = format!("/v1/messages/{}", path_segment(message_id));
    let call = CoreappCall {
        method: Method::Put,
        path_and_query: &path,
        pattern: Endpoint::MessageMarkRead.path(),
    };
    let answer = call_coreapp(state, call, Some(json!({ "status": "read" }))).await?;
    succeeded(answer)?;
    Ok(HttpResponse::Ok().json(send::read_answer()))
}

/// Calls a public endpoint of the coreapp on its own path.
pub async fn call(
    state: &AppState,
    endpoint: Endpoint,
    body: Option<Value>,
) -> Result<Forwarded, ApiError> {
    let path = endpoint.path();
    let call = CoreappCall {
        method: endpoint.method(),
        path_and_query: path,
        pattern: path,
    };
    call_coreapp(state, call, body).await
}

/// The body of a successful answer; an On-Prem error answer in the Cloud envelope.
pub fn succeeded(answer: Forwarded) -> Result<Value, CloudError> {
    if (200..300).contains(&answer.status) {
        Ok(answer.body)
    } else {
        Err(CloudError::from_onprem_body(&answer.body))
    }
}

/// `id` as one path segment: every byte but letters, digits, `-`, `_` and `~` percent-encoded, so a client's
/// id cannot reach another path of the coreapp.
fn path_segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_stay_one_path_segment() {
        assert_eq!(super::path_segment("gBGG-x_1"), "gBGG-x_1");
        assert_eq!(super::path_segment("../a b"), "%2E%2E%2Fa%20b");
    }
}
