//! Request rate limits per endpoint (spec onprem-rest §10): `POST /v1/messages` 50 requests a
//! second with bursts up to 150, every other endpoint 20 a second with bursts up to 60, each
//! endpoint counted on its own; above that 429/1015 `Too many requests`. Like the original's
//! they are held by each webapp process, so N webapps behind a balancer allow N times as much.
//!
//! The buckets are `governor`'s GCRA limiters: a token bucket kept in one atomic word per
//! endpoint, refilled continuously (one request every 1/rate seconds) up to the burst size.
//! Endpoints are route templates (`PUT /v1/users/{username}`), so the number of buckets is
//! bounded by the route table whatever paths clients send; unrouted paths are not limited
//! (they answer 404 without doing any work).
//!
//! The login lockout and the user-change limit (§5.6) are per client IP and live in `limiter`.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use wa_api::{ApiError, ErrorCode};
use wa_common::config::WebappSettings;
use wa_common::metrics::request_label;

/// The endpoint with its own, higher limit.
const MESSAGES_TEMPLATE: &str = "/v1/messages";
const MESSAGES_METHOD: &str = "POST";

pub struct RequestRateLimits {
    /// `None` when the limit is turned off (rate 0).
    messages: Option<DefaultDirectRateLimiter>,
    /// Keyed by the endpoint's `METHOD_path` label.
    others: Option<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl RequestRateLimits {
    pub fn new(settings: &WebappSettings) -> Self {
        RequestRateLimits {
            messages: quota(settings.messages_rate_per_sec, settings.messages_rate_burst)
                .map(RateLimiter::direct),
            others: quota(settings.endpoint_rate_per_sec, settings.endpoint_rate_burst)
                .map(RateLimiter::keyed),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one request of `method` on the route `template` out of its bucket, or answers
    /// 429/1015 with a `Retry-After` of the seconds until the next one is allowed.
    pub fn check(&self, method: &str, template: &str) -> Result<(), ApiError> {
        let is_send = template == MESSAGES_TEMPLATE
            || wa_api::cloud::cloud_path_of(template) == Some(wa_api::cloud::MESSAGES_PATH);
        let verdict = if method == MESSAGES_METHOD && is_send {
            self.messages.as_ref().map(|bucket| bucket.check())
        } else {
            self.others
                .as_ref()
                .map(|buckets| buckets.check_key(&request_label(method, Some(template))))
        };
        match verdict {
            None | Some(Ok(())) => Ok(()),
            Some(Err(not_until)) => {
                let wait = not_until.wait_time_from(self.clock.now());
                // Whole seconds, rounded up: a client that waits that long gets through.
                let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(ApiError::new(
                    ErrorCode::TooManyRequests,
                    format!("Rate limiting exceeded on {template}"),
                )
                .with_header("Retry-After", retry_after.max(1).to_string()))
            }
        }
    }
}

/// `rate` a second with bursts of `burst`; `None` (no limit) when `rate` is 0. A burst of 0 is
/// refused by the settings validation; should one get here, the burst is the rate.
fn quota(rate: u32, burst: u32) -> Option<Quota> {
    let rate = NonZeroU32::new(rate)?;
    let burst = NonZeroU32::new(burst).unwrap_or(rate);
    Some(Quota::per_second(rate).allow_burst(burst))
}

/// Refuses requests over their endpoint's limit before any other work (authentication, body
/// parsing, the coreapp). Runs after path normalisation, so `/v1/messages/` counts as
/// `/v1/messages`.
pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let refusal = match (
        req.app_data::<web::Data<RequestRateLimits>>(),
        req.match_pattern(),
    ) {
        (Some(limits), Some(template)) => limits.check(req.method().as_str(), &template).err(),
        _ => None,
    };
    match refusal {
        Some(refusal) => {
            // Inside the request's span, so the line carries its request id.
            tracing::warn!(path = req.path(), "request refused: {refusal}");
            let response = match req.match_pattern() {
                // The Cloud paths answer in their own envelope (1015 is 130429 there).
                Some(template) if wa_api::cloud::is_cloud_template(&template) => {
                    wa_api::cloud::CloudError::from(refusal).error_response()
                }
                _ => refusal.error_response(),
            };
            Ok(req.into_response(response).map_into_right_body())
        }
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(messages: (u32, u32), others: (u32, u32)) -> RequestRateLimits {
        RequestRateLimits::new(&WebappSettings {
            messages_rate_per_sec: messages.0,
            messages_rate_burst: messages.1,
            endpoint_rate_per_sec: others.0,
            endpoint_rate_burst: others.1,
            ..WebappSettings::default()
        })
    }

    /// Requests allowed out of `attempts` made at once (far faster than any refill here).
    fn allowed(limits: &RequestRateLimits, method: &str, template: &str, attempts: u32) -> u32 {
        (0..attempts)
            .filter(|_| limits.check(method, template).is_ok())
            .count() as u32
    }

    #[test]
    fn a_burst_passes_and_the_excess_is_refused_with_1015() {
        let limits = limits((1, 5), (1, 3));
        assert_eq!(allowed(&limits, "POST", "/v1/messages", 8), 5);
        let refused = limits.check("POST", "/v1/messages").unwrap_err();
        assert_eq!((refused.status, refused.first_code()), (429, 1015));
        assert_eq!(
            refused.errors[0].details.as_deref(),
            Some("Rate limiting exceeded on /v1/messages")
        );
        assert!(refused
            .headers
            .iter()
            .any(|(name, value)| *name == "Retry-After" && value.parse::<u64>().unwrap() >= 1));
    }

    #[test]
    fn every_endpoint_has_its_own_bucket() {
        let limits = limits((1, 5), (1, 3));
        assert_eq!(allowed(&limits, "GET", "/v1/health", 5), 3);
        assert_eq!(allowed(&limits, "GET", "/v1/users/{username}", 5), 3);
        assert_eq!(allowed(&limits, "PUT", "/v1/users/{username}", 5), 3);
        // Marking messages read is "every other endpoint", not the send limit.
        assert_eq!(allowed(&limits, "PUT", "/v1/messages/{id}", 5), 3);
        assert_eq!(allowed(&limits, "POST", "/v1/messages", 6), 5);
    }

    #[test]
    fn cloud_sends_share_the_send_limit() {
        let limits = limits((1, 4), (1, 2));
        let cloud_send = format!("/{}/{{object_id}}/messages", wa_api::cloud::VERSION_SEGMENT);
        assert_eq!(allowed(&limits, "POST", &cloud_send, 3), 3);
        assert_eq!(allowed(&limits, "POST", "/v1/messages", 3), 1);
    }

    #[test]
    fn a_rate_of_zero_turns_the_limit_off() {
        let limits = limits((0, 0), (0, 0));
        assert_eq!(allowed(&limits, "POST", "/v1/messages", 500), 500);
        assert_eq!(allowed(&limits, "GET", "/v1/health", 500), 500);
    }
}
