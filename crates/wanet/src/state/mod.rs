//! Durable state: every change to the network is written through to a state store (SQLite
//! under the data folder, or a MySQL/MariaDB or PostgreSQL database) and read back at start.
//!
//! The state stays in memory, where the rules run; a flusher task writes what changed every
//! [`FLUSH_INTERVAL`] in one transaction, so a burst of thousands of messages costs a few
//! commits instead of one each. Changes are found two ways:
//! - the kinds with many or fast-changing records (consumers, windows, dedupe ids, the offline
//!   store's pushes, media) are marked by the code that changes them;
//! - the few small ones (businesses, limits, catalogs, prefix rules, codes, the certificate
//!   key) are serialized at each flush and compared with what was last written, so no change
//!   to them can be missed by a forgotten mark.
//!
//! Where an answer promises durability (a control API change, a registration's credentials)
//! the caller awaits [`crate::base::durability::Persist::flushed`], which returns once a flush that started after the
//! call has committed.

mod records;

use crate::base::durability::Kind;
use crate::network::Network;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use wa_store::{StateChange, StateStore};

pub use records::restore;

/// How often changes are written.
const FLUSH_INTERVAL: Duration = Duration::from_millis(100);
/// How often the retention rules run.
const SWEEP_INTERVAL: Duration = Duration::from_secs(10);
/// Wait before writing again after the database refused a batch.
const RETRY_INTERVAL: Duration = Duration::from_secs(1);
/// How long a start waits for the state database to come up.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Opens the state store the configuration names, if any, and reads what it holds into
/// `network` (before anything else can see the network).
pub async fn open(url: Option<String>, network: &mut Network) -> std::io::Result<Option<Opened>> {
    let Some(url) = url else {
        tracing::info!("wanet keeps its state in memory only (no data folder or database URL)");
        return Ok(None);
    };
    let store = StateStore::connect(&url, STARTUP_TIMEOUT)
        .await
        .map_err(|e| std::io::Error::other(format!("wanet state store: {e}")))?;
    let rows = store
        .load_all()
        .await
        .map_err(|e| std::io::Error::other(format!("wanet state store: {e}")))?;
    let count = rows.len();
    let written = records::written_hashes(&rows);
    restore(network, rows);
    tracing::info!(records = count, "wanet state loaded");
    Ok(Some(Opened { store, written }))
}

/// An open state store and what it held of the compared kinds.
pub struct Opened {
    store: StateStore,
    written: HashMap<(Kind, String), u64>,
}

/// The task that writes changes until `stop`, then writes the last ones and cancels `done`.
pub fn spawn_flusher(
    network: Arc<Network>,
    opened: Option<Opened>,
    stop: CancellationToken,
    done: CancellationToken,
) -> JoinHandle<()> {
    let (store, written) = match opened {
        Some(opened) => (Some(opened.store), opened.written),
        None => (None, HashMap::new()),
    };
    tokio::spawn(async move {
        // Cancelled however the task ends, so nobody waits forever for a last write.
        let _done = done.drop_guard();
        let mut flusher = Flusher {
            written,
            network,
            store,
            last_sweep: Instant::now(),
        };
        loop {
            let stopping = tokio::select! {
                () = tokio::time::sleep(FLUSH_INTERVAL) => false,
                () = flusher.network.persist.wake_requested() => false,
                () = stop.cancelled() => true,
            };
            flusher.flush(&stop).await;
            if stopping {
                break;
            }
        }
    })
}

struct Flusher {
    network: Arc<Network>,
    store: Option<StateStore>,
    /// Hash of what was last written of each compared (small-kind) record.
    written: HashMap<(Kind, String), u64>,
    last_sweep: Instant,
}

impl Flusher {
    async fn flush(&mut self, stop: &CancellationToken) {
        if self.last_sweep.elapsed() >= SWEEP_INTERVAL {
            self.last_sweep = Instant::now();
            records::sweep(&self.network);
            // A phone brought back by a restored state or a rule change gets its messages.
            self.network.release_returned();
        }
        let persist = &self.network.persist;
        let generation = persist.start_flush();
        let keep = self.store.is_some();
        let changes = records::collect(&self.network, keep, &mut self.written);
        if let Some(store) = &self.store {
            write(store, changes, stop).await;
        }
        persist.finish_flush(generation);
    }
}

/// Writes one batch, retrying while the database refuses it (a restarting server must not
/// lose the changes); gives up only when stopping.
async fn write(store: &StateStore, changes: Vec<StateChange>, stop: &CancellationToken) {
    if changes.is_empty() {
        return;
    }
    loop {
        match store.apply(changes.clone()).await {
            Ok(()) => return,
            Err(error) if stop.is_cancelled() => {
                tracing::error!(%error, lost = changes.len(), "wanet state not written at shutdown");
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "wanet state not written; retrying");
                tokio::time::sleep(RETRY_INTERVAL).await;
            }
        }
    }
}
