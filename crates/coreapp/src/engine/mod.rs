//! The coreapp's background work, each piece started once by the supervisor: the network
//! session and its initialization (`lifecycle`), what the network pushes (`inbound`), the
//! recording of outbound statuses (`status`), sending stored messages (`delivery`) and giving up
//! on old ones (`expiry`), the webhook dispatcher (`dispatcher`), the periodic jobs (`schedules`)
//! and the log level that follows the settings (`log_settings`).

pub mod cluster;
pub mod delivery;
pub mod dispatcher;
pub mod expiry;
pub mod inbound;
pub mod lifecycle;
pub mod log_settings;
pub mod schedules;
pub mod status;
pub mod supervisor;
