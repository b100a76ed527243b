//! `GET`/`PATCH`/`DELETE /v1/settings/application`. The webapp relays those calls after checking
//! the token and the admin role; we answer with the complete envelope.

use crate::state::settings::SettingsHandle;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use wa_api::envelope::{self, Meta};
use wa_api::{ApiError, ErrorCode};
use wa_store::Store;

/// Same path as the public API: the webapp relays the request unchanged.
pub const APPLICATION_SETTINGS_PATH: &str = "/v1/settings/application";
/// A settings body is a few hundred bytes; anything this large is not one.
const MAX_BODY_BYTES: usize = 64 * 1024;

pub async fn get_settings(
    settings: web::Data<SettingsHandle>,
    store: web::Data<Store>,
) -> HttpResponse {
    let mut current = settings.current();
    current.wa_id = registered_wa_id(&store).await;
    let body = json!({ "application": current.to_json() });
    HttpResponse::Ok().json(envelope::payload("settings", body, Meta::current_coreapp()))
}

pub async fn patch_settings(
    settings: web::Data<SettingsHandle>,
    store: web::Data<Store>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let patch = read_json_body(payload).await?;
    settings.patch(&store, &patch).await?;
    Ok(HttpResponse::Ok().json(envelope::meta_only(Meta::current_coreapp())))
}

pub async fn delete_settings(
    settings: web::Data<SettingsHandle>,
    store: web::Data<Store>,
) -> Result<HttpResponse, ApiError> {
    settings.reset(&store).await?;
    Ok(HttpResponse::Ok().json(envelope::meta_only(Meta::current_coreapp())))
}

/// The body as JSON; an empty body is an empty object, which then has no valid parameters.
async fn read_json_body(payload: web::Payload) -> Result<Value, ApiError> {
    let bytes = match payload.to_bytes_limited(MAX_BODY_BYTES).await {
        Ok(Ok(bytes)) => bytes,
        // The connection broke mid-body: what arrived is not a JSON document.
        Ok(Err(_broken)) => return Err(ApiError::invalid_json()),
        Err(_too_large) => {
            return Err(ApiError::new(
                ErrorCode::ParameterValueInvalid,
                format!("Request body is too large: the limit is {MAX_BODY_BYTES} bytes"),
            ))
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&bytes).map_err(|_| ApiError::invalid_json())
}

/// `wa_id` is read-only and belongs to the registration, so it is read from there on every GET
/// instead of being copied into the settings (where it could go stale after a re-registration).
async fn registered_wa_id(store: &Store) -> String {
    match store.registration().await {
        Ok(registration) => registration.map(|r| r.phone).unwrap_or_default(),
        Err(error) => {
            tracing::warn!("settings: cannot read the registered number: {error}");
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::api::configure;
    use actix_web::{test, App};
    use wa_api::keys::APPLICATION_SETTINGS as APPLICATION_SETTINGS_KEY;
    use wa_api::settings::ApplicationSettings;
    use wa_store::testing::TestDb;
    use wa_store::{Backend, Registration};

    async fn sqlite_store() -> (TestDb, Store) {
        let db = TestDb::new(Backend::Sqlite);
        let store = Store::connect(&db.config()).await.unwrap();
        (db, store)
    }

    async fn call(
        store: &Store,
        handle: &SettingsHandle,
        request: test::TestRequest,
    ) -> (u16, Value) {
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(store.clone()))
                .app_data(web::Data::new(handle.clone()))
                .configure(configure),
        )
        .await;
        let response =
            test::call_service(&app, request.uri(APPLICATION_SETTINGS_PATH).to_request()).await;
        let status = response.status().as_u16();
        let body = test::read_body(response).await;
        (status, serde_json::from_slice(&body).unwrap())
    }

    fn patch_body(body: &str) -> test::TestRequest {
        test::TestRequest::patch()
            .insert_header(("content-type", "application/json"))
            .set_payload(body.to_string())
    }

    fn first_error(body: &Value) -> (u64, &str) {
        let error = &body["errors"][0];
        (
            error["code"].as_u64().unwrap(),
            error["details"].as_str().unwrap_or_default(),
        )
    }

    #[actix_web::test]
    async fn get_answers_the_defaults_in_the_envelope() {
        let (_db, store) = sqlite_store().await;
        let handle = SettingsHandle::load(&store).await.unwrap();
        let (status, body) = call(&store, &handle, test::TestRequest::get()).await;
        assert_eq!(status, 200);
        assert_eq!(
            body["settings"]["application"],
            ApplicationSettings::default().to_json()
        );
        assert_eq!(body["meta"]["api_status"], "stable");
        assert!(!body["meta"]["version"].as_str().unwrap().starts_with('v'));
    }

    #[actix_web::test]
    async fn patch_is_persisted_published_and_survives_a_reload() {
        let (_db, store) = sqlite_store().await;
        let handle = SettingsHandle::load(&store).await.unwrap();
        let mut changes = handle.subscribe();
        let (status, body) = call(
            &store,
            &handle,
            patch_body(r#"{"webhooks":{"url":"https://h.example.com/wa","max_concurrent_requests":"12"},"sent_status":false}"#),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["meta"]
        );
        assert!(changes.has_changed().unwrap());
        assert_eq!(changes.borrow_and_update().max_concurrent_callbacks(), 12);

        let (_, body) = call(&store, &handle, test::TestRequest::get()).await;
        let application = &body["settings"]["application"];
        assert_eq!(application["webhooks"]["url"], "https://h.example.com/wa");
        assert_eq!(application["webhooks"]["max_concurrent_requests"], 12);
        assert_eq!(application["sent_status"], false);

        let reloaded = SettingsHandle::load(&store).await.unwrap().current();
        assert_eq!(reloaded, handle.current());
        assert_eq!(reloaded.webhook_url(), Some("https://h.example.com/wa"));
    }

    #[actix_web::test]
    async fn bad_patches_get_their_codes_and_change_nothing() {
        let (_db, store) = sqlite_store().await;
        let handle = SettingsHandle::load(&store).await.unwrap();
        for (body, code, details) in [
            ("{}", 1009, "No valid parameters provided"),
            ("", 1009, "No valid parameters provided"),
            ("{\"unknown\":1}", 1009, "No valid parameters provided"),
            (
                "{\"callback_persist\":\"yes\"}",
                1009,
                "Parameter 'callback_persist' has invalid value 'yes'",
            ),
            (
                "{\"webhooks\":{\"url\":\"ftp://x\"},\"verbose_logging\":true}",
                1009,
                "Parameter 'webhooks.url' has invalid value 'ftp://x'",
            ),
            (
                "{\"webhooks\":",
                1025,
                "Unable to decode json from the request: Syntax error",
            ),
        ] {
            let (status, answer) = call(&store, &handle, patch_body(body)).await;
            assert_eq!(status, 400, "{body}: {answer}");
            assert_eq!(first_error(&answer), (code, details), "{body}");
            assert!(answer["meta"].is_object());
        }
        assert_eq!(handle.current(), ApplicationSettings::default());
        assert_eq!(
            store
                .get_config_value(APPLICATION_SETTINGS_KEY)
                .await
                .unwrap(),
            None
        );
    }

    #[actix_web::test]
    async fn oversized_bodies_are_refused() {
        let (_db, store) = sqlite_store().await;
        let handle = SettingsHandle::load(&store).await.unwrap();
        let huge = format!("{{\"log_level\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        let (status, answer) = call(&store, &handle, patch_body(&huge)).await;
        assert_eq!(status, 400);
        assert_eq!(first_error(&answer).0, 1009);
    }

    #[actix_web::test]
    async fn delete_restores_and_persists_the_defaults() {
        let (_db, store) = sqlite_store().await;
        let handle = SettingsHandle::load(&store).await.unwrap();
        let (status, _) = call(
            &store,
            &handle,
            patch_body(r#"{"webhooks":{"url":"http://127.0.0.1:9/x"}}"#),
        )
        .await;
        assert_eq!(status, 200);
        let (status, body) = call(&store, &handle, test::TestRequest::delete()).await;
        assert_eq!(status, 200);
        assert_eq!(
            body.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["meta"]
        );
        assert_eq!(handle.current(), ApplicationSettings::default());
        let reloaded = SettingsHandle::load(&store).await.unwrap().current();
        assert_eq!(reloaded, ApplicationSettings::default());
    }

    #[actix_web::test]
    async fn get_shows_the_registered_number() {
        let (_db, store) = sqlite_store().await;
        store
            .save_registration(Registration {
                phone: "16315551019".to_string(),
                vname: "Shop".to_string(),
                secret: "s".to_string(),
                registered_at: 1,
                deregistered_at: None,
            })
            .await
            .unwrap();
        let handle = SettingsHandle::load(&store).await.unwrap();
        let (_, body) = call(&store, &handle, test::TestRequest::get()).await;
        assert_eq!(body["settings"]["application"]["wa_id"], "16315551019");
        // wa_id is read-only: it is no setting of its own.
        let (status, _) = call(&store, &handle, patch_body(r#"{"wa_id":"1"}"#)).await;
        assert_eq!(status, 400);
    }

    #[actix_web::test]
    async fn other_methods_are_405() {
        let (_db, store) = sqlite_store().await;
        let handle = SettingsHandle::load(&store).await.unwrap();
        let (status, body) = call(&store, &handle, test::TestRequest::post()).await;
        assert_eq!(status, 405);
        assert_eq!(first_error(&body).0, 1014);
    }

    #[actix_web::test]
    async fn a_corrupt_stored_row_falls_back_field_by_field() {
        let (_db, store) = sqlite_store().await;
        store
            .put_config_value(
                APPLICATION_SETTINGS_KEY,
                r#"{"webhooks":{"url":"https://ok.example.com"},"heartbeat_interval":"soon"}"#
                    .to_string(),
            )
            .await
            .unwrap();
        let current = SettingsHandle::load(&store).await.unwrap().current();
        assert_eq!(current.webhook_url(), Some("https://ok.example.com"));
        assert_eq!(current.heartbeat_interval, 5);
        store
            .put_config_value(APPLICATION_SETTINGS_KEY, "not json".to_string())
            .await
            .unwrap();
        let current = SettingsHandle::load(&store).await.unwrap().current();
        assert_eq!(current, ApplicationSettings::default());
    }
}
