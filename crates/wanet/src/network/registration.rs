//! Registration: a code requested by sms or voice with a verified-name certificate, then
//! exchanged for the credentials the business's later sessions authenticate with.

use crate::base::errors::{access_denied, invalid_parameter, registration_failed};
use crate::base::{ids, phone};
use crate::model::codes::CodeRequest;
use crate::network::{Business, Network};
use std::sync::Arc;
use std::time::Instant;
use wa_netproto::{Credentials, NetError, Response};

/// The fields of a `RequestCode`.
pub struct CodeRequestInput<'a> {
    pub cc: &'a str,
    pub phone_number: &'a str,
    pub method: &'a str,
    pub cert: &'a str,
    /// The two-step PIN, required when the number has one.
    pub pin: Option<&'a str>,
}

impl Network {
    pub fn request_code(&self, input: CodeRequestInput<'_>) -> Result<Response, NetError> {
        if !matches!(input.method, "sms" | "voice") {
            return Err(invalid_parameter(format!(
                "method must be 'sms' or 'voice', not '{}'",
                input.method
            )));
        }
        let phone = business_phone(input.cc, input.phone_number)?;
        if self.world().prefix_rules.refuses_registration(&phone) {
            return Err(registration_failed("sanctioned_region"));
        }
        self.check_not_locked(&phone)?;
        self.check_two_step_pin(&phone, input.pin)?;
        let vname = self
            .certs
            .verify(input.cert)
            .ok_or_else(|| registration_failed("invalid_cert"))?;
        let request = CodeRequest {
            phone: phone.clone(),
            code: ids::registration_code(),
            method: input.method.to_string(),
            vname: vname.clone(),
        };
        // Logged on purpose: reading the log is one of the two ways to get the code (the other
        // is the control API), as with a real phone that receives it.
        tracing::info!(
            "registration code for +{phone} ({}): {}",
            request.method,
            request.code
        );
        self.world().code_requests.insert(phone, request);
        Ok(Response::CodeSent { vname })
    }

    /// Exchanges a right code for credentials. A number registering for the first time then
    /// gets what was waiting for it (the registration hook), before the caller answers.
    pub fn register(
        self: &Arc<Self>,
        cc: &str,
        phone_number: &str,
        code: &str,
    ) -> Result<Response, NetError> {
        let (response, first) = self.register_number(cc, phone_number, code)?;
        if let (Some(hook), Some(wa_id)) = (&self.registration_hook, first) {
            hook(self, &wa_id);
        }
        Ok(response)
    }

    /// The registration itself; also returns the wa_id when the number is new to the network.
    fn register_number(
        &self,
        cc: &str,
        phone_number: &str,
        code: &str,
    ) -> Result<(Response, Option<String>), NetError> {
        let phone = business_phone(cc, phone_number)?;
        self.check_not_locked(&phone)?;
        let code = code.trim().replace('-', "");
        let lock = self.rules().scaled(crate::realism::verify_lock::LOCK);
        let mut world = self.world();
        let Some(request) = world
            .code_requests
            .get(&phone)
            .filter(|r| r.code == code)
            .cloned()
        else {
            if let Some(locked) = world.verify_locks.failed(&phone, Instant::now(), lock) {
                tracing::warn!("+{phone}: 3 wrong registration codes; locked for {locked:?}");
                world.code_requests.remove(&phone);
                return Err(locked_error(locked));
            }
            return Err(registration_failed("incorrect_code"));
        };
        world.verify_locks.succeeded(&phone);
        world.code_requests.remove(&phone);
        let credentials = Credentials {
            phone: phone.clone(),
            secret: ids::secret(),
        };
        let first = !world.businesses.contains_key(&phone);
        if first {
            world.catalogs.link_default(&phone);
        }
        rotate_credentials(&mut world.businesses, &request, &credentials.secret);
        tracing::info!("registered +{phone} as '{}'", request.vname);
        let response = Response::Registered {
            vname: request.vname,
            credentials,
        };
        Ok((response, first.then_some(phone)))
    }

    /// A number locked after failed verifications can neither request nor submit a code.
    fn check_not_locked(&self, phone: &str) -> Result<(), NetError> {
        match self.world().verify_locks.locked_for(phone, Instant::now()) {
            Some(left) => Err(locked_error(left)),
            None => Ok(()),
        }
    }

    /// A number with two-step verification re-registers only with its PIN (spec onprem-rest
    /// §7.1 `pin`); the network refuses like any other failed registration (403/1005).
    fn check_two_step_pin(&self, phone: &str, pin: Option<&str>) -> Result<(), NetError> {
        let world = self.world();
        let Some(expected) = world
            .businesses
            .get(phone)
            .and_then(|b| b.two_step_pin.as_deref())
        else {
            return Ok(());
        };
        match pin {
            None => Err(registration_failed("two_step_pin_required")),
            Some(pin) if pin == expected => Ok(()),
            Some(_) => Err(registration_failed("incorrect_two_step_pin")),
        }
    }

    pub fn code_for(&self, phone: &str) -> Option<CodeRequest> {
        self.world().code_requests.get(phone).cloned()
    }
}

/// 403/1005 with the time left, so an integration can tell the user when to try again.
fn locked_error(left: std::time::Duration) -> NetError {
    let minutes = left.as_secs().div_ceil(60);
    access_denied(format!(
        "Registration failed for reason 'too_many_attempts': 3 wrong codes; try again in {minutes} minutes ({} ms).",
        left.as_millis()
    ))
}

/// Creates the business or, when the number re-registers, keeps its offline store and counters
/// but replaces the secret and closes the session opened with the old one.
fn rotate_credentials(
    businesses: &mut std::collections::HashMap<String, Business>,
    request: &CodeRequest,
    secret: &str,
) {
    let business = businesses.entry(request.phone.clone()).or_insert_with(|| {
        Business::new(request.phone.clone(), request.vname.clone(), String::new())
    });
    business.vname = request.vname.clone();
    business.secret = secret.to_string();
    for old in business.outbox.detach_any() {
        old.close.cancel();
    }
}

/// The business number as one string of digits, from the `cc` and `phone_number` fields.
fn business_phone(cc: &str, phone_number: &str) -> Result<String, NetError> {
    let cc =
        phone::country_code(cc).ok_or_else(|| invalid_parameter("cc must be 1 to 3 digits"))?;
    let number = phone::strip_separators(phone_number.trim());
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid_parameter("phone_number must contain only digits"));
    }
    phone::wa_id(&format!("{cc}{number}"))
        .ok_or_else(|| invalid_parameter("cc and phone_number must make 7 to 15 digits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_phone_joins_and_checks_digits() {
        assert_eq!(business_phone("1", "631-555 1234").unwrap(), "16315551234");
        assert_eq!(business_phone("1234", "6315551234").unwrap_err().code, 1009);
        assert_eq!(business_phone("1", "631x551234").unwrap_err().code, 1009);
        assert_eq!(business_phone("1", "").unwrap_err().code, 1009);
        assert_eq!(business_phone("1", "12").unwrap_err().code, 1009);
    }
}
