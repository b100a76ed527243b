//! `GET /{version}/{waba-id}/phone_numbers` (and `GET /{version}/{phone-number-id}`, in
//! `objects`): the registered number with the fields the core knows. Quality, throughput and
//! verification are fixed values: the simulated network rates no number (docs/compatibility.md).

use super::caller::{authenticated, business_account, BusinessNumber};
use crate::auth::AuthUser;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use wa_api::cloud::CloudError;
use wa_api::ApiError;

pub async fn list(
    req: HttpRequest,
    caller: Result<AuthUser, ApiError>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, CloudError> {
    authenticated(caller)?;
    let number = business_account(&state, &req).await?;
    Ok(HttpResponse::Ok().json(json!({ "data": [shown(&number)] })))
}

pub fn shown(number: &BusinessNumber) -> Value {
    json!({
        "id": number.phone_number_id,
        "display_phone_number": format!("+{}", number.wa_id),
        "verified_name": number.verified_name,
        "code_verification_status": "VERIFIED",
        "quality_rating": "GREEN",
        "platform_type": "CLOUD_API",
        "status": if number.registered { "CONNECTED" } else { "DISCONNECTED" },
        "throughput": { "level": "STANDARD" },
    })
}
