//! The behaviours integrators meet on the real network, as rules independent of the network's
//! state: delivery latency, throughput limits and tiers, recipient profiles and the region
//! rules that assign them, the verification lock.

pub mod latency;
pub mod limits;
pub mod marketing;
pub mod profiles;
pub mod throttle;
pub mod verify_lock;
