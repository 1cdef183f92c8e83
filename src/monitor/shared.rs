//! What every probe loop shares: the plan's prober, the store, the concurrency bound, the shutdown signal.

use crate::probe::{ProbeRecord, Prober};
use crate::store::{Store, StoreError};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A shutdown flag loops wait on alongside their timers.
#[derive(Debug, Clone)]
pub struct Shutdown(tokio::sync::watch::Receiver<bool>);

impl Shutdown {
    pub fn new() -> (tokio::sync::watch::Sender<bool>, Shutdown) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        (tx, Shutdown(rx))
    }

    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once shutdown is requested.
    pub async fn requested(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

#[derive(Debug)]
pub struct Shared {
    pub prober: Prober,
    pub store: Arc<Mutex<Store>>,
    pub permits: tokio::sync::Semaphore,
    pub queries_per_hour: u32,
    /// The record writer's queue (see [`super::writer`]).
    pub writer: tokio::sync::mpsc::Sender<ProbeRecord>,
    /// The alert loop's queue, when alert email is on (see [`super::alerts`]). Unbounded: handing a run
    /// over never waits for alerting.
    pub alerts: Option<tokio::sync::mpsc::UnboundedSender<ProbeRecord>>,
    /// Where runs, bursts and decisions are counted.
    pub metrics: crate::telemetry::Metrics,
}

impl Shared {
    /// Runs `work` on the store from a blocking thread.
    pub async fn with_store<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        store_task(&self.store, work).await
    }
}

/// Runs `work` on `store` from a blocking thread.
pub async fn store_task<T: Send + 'static>(
    store: &Arc<Mutex<Store>>,
    work: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let store = store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        work(&store)
    })
    .await
    .unwrap_or_else(|e| {
        Err(StoreError::Sql(rusqlite::Error::ToSqlConversionFailure(
            Box::new(e),
        )))
    })
}
