//! The phones' side of a message: what each profile does with it, played after the delivery
//! latency.

use crate::base::errors::user_not_valid;
use crate::model::directory::Profile;
use crate::network::{Network, World};
use crate::realism::profiles::{experiment_group, receiver_incapable, Outcome};
use rand::Rng;
use wa_netproto::NetError;

impl World {
    /// The profile `wa_id` (normalized) behaves by: set on the consumer, else a prefix rule,
    /// else normal.
    pub fn profile_of(&self, wa_id: &str) -> Profile {
        match self.consumers.get(wa_id) {
            Some(c) if c.profile_set => c.profile,
            _ => self.prefix_rules.lookup(wa_id).unwrap_or_default(),
        }
    }
}

impl Network {
    /// The phone's side of a message the network accepted (the window and the directory have
    /// been checked). Decided at acceptance, so the seeded RNG is drawn in send order.
    pub(crate) fn phone_outcome(&self, world: &mut World, recipient: &str) -> Outcome {
        match world.profile_of(recipient) {
            Profile::Normal | Profile::NoTemplateButtons => Outcome::Deliver {
                read: world.rng.gen_bool(self.rules().read_probability),
            },
            Profile::NoReadReceipts => Outcome::Deliver { read: false },
            Profile::Offline => Outcome::Hold,
            Profile::BlockedBusiness | Profile::Sanctioned => Outcome::StaySent,
            Profile::OldApp => Outcome::Fail(receiver_incapable()),
            Profile::Experiment => Outcome::Fail(experiment_group()),
            Profile::MultiDevice => Outcome::Disagree(receiver_incapable()),
            Profile::NotOnWhatsapp => Outcome::Fail(user_not_valid()),
        }
    }
}

impl Network {
    /// The coreapp's `GetCapabilities` request: what the consumer's app can display.
    pub fn capabilities(&self, wa_id: &str) -> Result<wa_netproto::Response, NetError> {
        let wa_id = crate::base::phone::wa_id(wa_id)
            .ok_or_else(|| crate::base::errors::invalid_parameter("wa_id is not a valid number"))?;
        let template_buttons = self.world().profile_of(&wa_id).shows_template_buttons();
        Ok(wa_netproto::Response::Capabilities {
            wa_id,
            template_buttons,
        })
    }
}
