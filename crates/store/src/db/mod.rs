//! Layer 1: reaching a database and running SQL on it, knowing no table. Connections and their
//! session settings, write transactions, creating and dropping databases, migrations, the pool
//! and [`Db`], through which every query runs; plus the insert helpers any table uses.

mod connection;
mod database;
mod dump;
mod explain;
mod insert;
mod migrations;
mod now;
mod pool;
mod runner;
mod server_stats;
mod startup;
mod transaction;

pub(crate) use connection::DbConnection;
pub(crate) use database::drop_database;
pub use dump::DumpedValue;
pub(crate) use dump::{dump, execute_batch};
pub(crate) use explain::explain;
pub(crate) use insert::{find_or_insert, insert_unless_duplicate};
pub(crate) use migrations::with_migration_lock;
pub(crate) use now::{db_now, db_now_plus};
pub(crate) use runner::Db;
pub use runner::{PoolState, QueryTimings};
pub(crate) use server_stats::{deadlocks, latest_deadlock, session_isolation};
pub(crate) use startup::open_when_reachable;
pub(crate) use transaction::write_transaction;
