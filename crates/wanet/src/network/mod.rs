//! The shared state of the simulated network and the operations on it that sessions and the
//! control API have in common.
//!
//! Everything lives behind one mutex: every operation is a few map look-ups, never awaits while
//! holding it, and one lock keeps cross-cutting rules (a consumer's message opens a window *and*
//! queues a push) atomic without ordering puzzles.

mod catalogs;
pub mod held;
mod identity;
mod latency;
pub mod limits;
pub mod messaging;
pub mod outage;
mod profile;
pub mod profiles;
pub mod registration;
mod shards;
mod templates;
pub mod terms;

use crate::base::certs::CertAuthority;
use crate::base::durability::Kind;
use crate::base::errors::access_denied;
use crate::config::Rules;
use crate::model::codes::CodeRequest;
use crate::model::directory::{Consumer, ConsumerSummary, ConsumerView, Profile};
use crate::routing::outbox::Outbox;
use crate::routing::shards::SessionLink;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;
use wa_netproto::{Credentials, NetError, Push, SessionScope};

pub struct Network {
    world: Mutex<World>,
    /// The behaviour options; `PATCH /control/config` replaces them at run time.
    rules: Mutex<Rules>,
    pub certs: CertAuthority,
    /// Media files in transit (uploads of businesses and consumers).
    pub media: crate::model::media::MediaStore,
    /// Write-through of the state to the state store (`persist`).
    pub persist: crate::base::durability::Persist,
    /// Woken when a send is throttled, so the throttle watch (limits.rs) learns of a new end.
    throttle_watch: tokio::sync::Notify,
    /// Called when a number registers for the first time (a scenario's entries waiting for it).
    registration_hook: Option<RegistrationHook>,
}

/// What runs when a number registers for the first time, with its wa_id: set by the layer
/// above (the scenarios' waiting entries), which the network does not know.
pub type RegistrationHook = Box<dyn Fn(&Arc<Network>, &str) + Send + Sync>;

pub struct World {
    pub businesses: HashMap<String, Business>,
    /// Consumers created through the control API or that received or sent something; every other
    /// well-formed number is an implicit `normal` user.
    pub consumers: HashMap<String, Consumer>,
    /// Outstanding registration codes by phone (cc + number digits).
    pub code_requests: HashMap<String, CodeRequest>,
    /// When each (business, consumer) pair's customer-service window was last opened.
    pub windows: HashMap<(String, String), Instant>,
    /// The phones' random choices; seeded for reproducible runs.
    pub rng: StdRng,
    /// Profiles of number ranges (profiles.rs).
    pub prefix_rules: crate::realism::profiles::PrefixRules,
    /// `delivered` delays of number ranges (latency.rs).
    pub latency_rules: crate::realism::latency::LatencyRules,
    /// Throughput and tier state of every business number (limits.rs).
    pub limits: crate::realism::limits::Limits,
    /// End of a forced outage (outage.rs).
    pub outage_until: Option<Instant>,
    /// Product catalogs and the numbers linked to them (catalogs.rs).
    pub catalogs: crate::model::catalogs::Catalogs,
    /// Failed verifications and the numbers they locked (verify_lock.rs).
    pub verify_locks: crate::realism::verify_lock::VerifyLocks,
    /// Scenario entries waiting for a number to register (control/scenario.rs).
    pub pending: crate::model::pending::Pending,
    /// Records of the marked kinds (consumers, windows, dedupe ids) changed since the state
    /// store last took them; the small kinds are compared whole instead (state/).
    pub dirty: BTreeSet<(Kind, String)>,
}

/// A registered business number.
pub struct Business {
    pub wa_id: String,
    pub vname: String,
    pub secret: String,
    pub outbox: Outbox,
    /// Timestamps of accepted message ids: the network-side dedupe that makes re-sends after a
    /// coreapp crash harmless.
    pub sent: crate::routing::dedupe::Dedupe,
    pub accepted_messages: u64,
    pub duplicate_sends: u64,
    /// The business's message templates (see `templates.rs`), served at initialization.
    pub templates: Vec<wa_netproto::templates::Template>,
    /// What consumers see of the business, as its coreapp last sent it.
    pub profile: wa_netproto::BusinessProfile,
    /// The two-step verification PIN; re-registering the number requires it.
    pub two_step_pin: Option<String>,
    /// Whether the business accepted the WhatsApp Business terms of service (terms.rs).
    pub terms_accepted: bool,
}

/// The pushes waiting when a session authenticated.
pub struct Backlog {
    pub count: usize,
    /// Id of the last of them (0 when there are none).
    pub last_id: u64,
}

#[derive(Debug, Serialize)]
pub struct BusinessView {
    pub wa_id: String,
    pub vname: String,
    pub connected: bool,
    pub queued_pushes: usize,
    pub unacked_pushes: usize,
    pub accepted_messages: u64,
    pub duplicate_sends: u64,
    pub terms_accepted: bool,
}

impl Business {
    pub fn new(wa_id: String, vname: String, secret: String) -> Self {
        Business {
            vname,
            secret,
            outbox: Outbox::default(),
            sent: Default::default(),
            accepted_messages: 0,
            duplicate_sends: 0,
            templates: crate::model::templates::seed(&wa_id),
            profile: wa_netproto::BusinessProfile::default(),
            two_step_pin: None,
            terms_accepted: true,
            wa_id,
        }
    }

    fn view(&self) -> BusinessView {
        BusinessView {
            wa_id: self.wa_id.clone(),
            vname: self.vname.clone(),
            connected: self.outbox.connected(),
            queued_pushes: self.outbox.queued(),
            unacked_pushes: self.outbox.unacked(),
            accepted_messages: self.accepted_messages,
            duplicate_sends: self.duplicate_sends,
            terms_accepted: self.terms_accepted,
        }
    }
}

impl World {
    /// The consumer behind `wa_id` (already normalized), created on first use.
    /// Every caller may change it, so it is marked for the state store.
    pub fn consumer(&mut self, wa_id: &str) -> &mut Consumer {
        self.dirty.insert((Kind::Consumer, wa_id.to_string()));
        self.consumers
            .entry(wa_id.to_string())
            .or_insert_with(|| Consumer::implicit(wa_id))
    }

    /// Whether `wa_id` (normalized) is a WhatsApp user: a number its country assigns, not
    /// marked `not_on_whatsapp`. The network alone decides; the coreapp asks it.
    pub fn is_user(&self, wa_id: &str) -> bool {
        self.profile_of(wa_id) != Profile::NotOnWhatsapp && crate::base::phone::is_assigned(wa_id)
    }
}

impl Network {
    pub fn new(rules: Rules, seed: Option<u64>) -> Self {
        let rng = match seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_entropy(),
        };
        Network {
            world: Mutex::new(World {
                businesses: HashMap::new(),
                consumers: HashMap::new(),
                code_requests: HashMap::new(),
                windows: HashMap::new(),
                rng,
                prefix_rules: Default::default(),
                latency_rules: Default::default(),
                limits: Default::default(),
                outage_until: None,
                catalogs: Default::default(),
                verify_locks: Default::default(),
                pending: Default::default(),
                dirty: BTreeSet::new(),
            }),
            rules: Mutex::new(rules),
            certs: CertAuthority::new(),
            media: crate::model::media::MediaStore::default(),
            persist: Default::default(),
            throttle_watch: tokio::sync::Notify::new(),
            registration_hook: None,
        }
    }

    /// Sets what runs when a number registers for the first time.
    pub fn on_first_registration(&mut self, hook: RegistrationHook) {
        self.registration_hook = Some(hook);
    }

    /// The behaviour options in force now.
    pub fn rules(&self) -> Rules {
        *self.rules.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn set_rules(&self, rules: Rules) {
        *self.rules.lock().unwrap_or_else(PoisonError::into_inner) = rules;
    }

    /// The state. A panic while it was held cannot leave it half-updated in a way that matters
    /// more than stopping the whole network would, so a poisoned lock is used as is.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Authenticates `credentials` and makes `session` the business's session for `scope`,
    /// closing the ones it replaces (shards.rs). Returns the business wa_id and its backlog.
    pub fn hello(
        &self,
        credentials: &Credentials,
        session: SessionLink,
        scope: SessionScope,
    ) -> Result<(String, Backlog), NetError> {
        let mut world = self.world();
        let business = world
            .businesses
            .get_mut(&credentials.phone)
            .filter(|b| constant_time_eq(b.secret.as_bytes(), credentials.secret.as_bytes()))
            .ok_or_else(|| access_denied("invalid credentials"))?;
        let attached = business.outbox.attach(session, scope)?;
        for old in attached.replaced {
            tracing::info!(business = %business.wa_id, "a new session replaces session {}", old.id);
            old.close.cancel();
        }
        let backlog = Backlog {
            count: attached.backlog,
            last_id: attached.backlog_last_id,
        };
        Ok((business.wa_id.clone(), backlog))
    }

    /// The session ended: its unacked pushes wait for the next one.
    pub fn detach(&self, business: &str, session_id: u64) {
        if let Some(b) = self.world().businesses.get_mut(business) {
            b.outbox.detach(session_id);
        }
    }

    pub fn ack(&self, business: &str, push_id: u64) {
        if let Some(b) = self.world().businesses.get_mut(business) {
            b.outbox.ack(push_id);
        }
    }

    /// Up to `max` pushes for the session to send; `None` once it is no longer the business's
    /// session.
    pub fn take_pushes(
        &self,
        business: &str,
        session_id: u64,
        max: usize,
    ) -> Option<Vec<(u64, Push)>> {
        self.world()
            .businesses
            .get_mut(business)?
            .outbox
            .take(session_id, max)
    }

    /// An id for the end-of-backlog marker, from the business's push id sequence.
    pub fn marker_id(&self, business: &str) -> u64 {
        self.world()
            .businesses
            .get_mut(business)
            .map_or(0, |b| b.outbox.next_id())
    }

    /// Creates or updates a consumer; fields left out keep their current (or default) value.
    pub fn upsert_consumer(
        &self,
        wa_id: &str,
        name: Option<String>,
        profile: Option<Profile>,
    ) -> ConsumerView {
        let mut world = self.world();
        let consumer = world.consumer(wa_id);
        if let Some(name) = name {
            consumer.name = name;
        }
        if let Some(profile) = profile {
            consumer.profile = profile;
            consumer.profile_set = true;
        }
        consumer.view()
    }

    /// A consumer as the control API shows it; numbers never seen are implicit normal users
    /// (and are not stored just because someone looked).
    pub fn consumer_view(&self, wa_id: &str) -> ConsumerView {
        let world = self.world();
        let mut view = match world.consumers.get(wa_id) {
            Some(consumer) => consumer.view(),
            None => Consumer::implicit(wa_id).view(),
        };
        view.profile = world.profile_of(wa_id);
        view
    }

    /// Every consumer the network keeps (one it delivered to, one who wrote, one set up through
    /// the control API), newest activity first, each with its profile as it applies now.
    pub fn consumer_list(&self) -> Vec<ConsumerSummary> {
        let world = self.world();
        let mut list: Vec<ConsumerSummary> = world
            .consumers
            .values()
            .map(|consumer| {
                let mut summary = consumer.summary();
                summary.profile = world.profile_of(&consumer.wa_id);
                summary
            })
            .collect();
        list.sort_by(|a, b| {
            b.last_timestamp
                .cmp(&a.last_timestamp)
                .then_with(|| a.wa_id.cmp(&b.wa_id))
        });
        list
    }

    pub fn business_view(&self, wa_id: &str) -> Option<BusinessView> {
        self.world().businesses.get(wa_id).map(Business::view)
    }
}

/// Secrets are compared without an early exit, so timing does not reveal a prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
