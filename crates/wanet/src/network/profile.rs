//! The business's public profile and its two-step verification PIN, as its coreapp sets them.
//! Consumers (through the control API) read the profile; registration checks the PIN.

use crate::base::errors::{access_denied, invalid_parameter};
use crate::network::Network;
use serde::Serialize;
use wa_netproto::{BusinessProfile, NetError, Response};

/// `GET /control/businesses/{wa_id}/profile`.
#[derive(Debug, Serialize)]
pub struct ProfileView {
    pub wa_id: String,
    pub profile: BusinessProfile,
    pub two_step_enabled: bool,
}

impl Network {
    pub fn set_profile(
        &self,
        business: &str,
        profile: BusinessProfile,
    ) -> Result<Response, NetError> {
        let mut world = self.world();
        let entry = world
            .businesses
            .get_mut(business)
            .ok_or_else(|| access_denied("unknown business"))?;
        tracing::info!(business, "profile updated");
        entry.profile = profile;
        Ok(Response::Done)
    }

    pub fn set_two_step(&self, business: &str, pin: Option<String>) -> Result<Response, NetError> {
        if let Some(pin) = &pin {
            if pin.len() != 6 || !pin.chars().all(|c| c.is_ascii_digit()) {
                return Err(invalid_parameter("the two-step PIN must be 6 digits"));
            }
        }
        let mut world = self.world();
        let entry = world
            .businesses
            .get_mut(business)
            .ok_or_else(|| access_denied("unknown business"))?;
        tracing::info!(
            business,
            enabled = pin.is_some(),
            "two-step verification changed"
        );
        entry.two_step_pin = pin;
        Ok(Response::Done)
    }

    pub fn profile_view(&self, wa_id: &str) -> Option<ProfileView> {
        self.world().businesses.get(wa_id).map(|b| ProfileView {
            wa_id: b.wa_id.clone(),
            profile: b.profile.clone(),
            two_step_enabled: b.two_step_pin.is_some(),
        })
    }
}
