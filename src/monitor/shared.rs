//! What every probe loop shares: the plan's prober, the store, the concurrency bound, the shutdown signal.

use crate::probe::{ProbeRecord, Prober};
use crate::store::{FinishedRun, Store, StoreError};
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

/// What one plan's loops share. A reload builds a new one for the loops it starts; loops it keeps keep theirs,
/// and the parts that must be one per process (the writer's queue, the alert feed, the concurrency bound while
/// it is unchanged) are shared between them.
#[derive(Debug)]
pub struct Shared {
    pub prober: Prober,
    pub store: Arc<Mutex<Store>>,
    pub permits: Arc<tokio::sync::Semaphore>,
    pub queries_per_hour: u32,
    /// The record writer's queue (see [`super::writer`]).
    pub writer: tokio::sync::mpsc::Sender<FinishedRun>,
    /// Where finished runs go for alerting (see [`AlertFeed`]).
    pub alerts: Arc<AlertFeed>,
    /// Where runs, bursts and decisions are counted.
    pub metrics: crate::telemetry::Metrics,
    /// The plan's known-drift baseline: a probe whose entries change at a reload gets a new loop (and this).
    pub known_drift: Arc<crate::known_drift::KnownDrift>,
    /// `run.location`: every run this agent makes carries it.
    pub location: String,
    /// This agent's side of the leader's lease: what must happen once waits for it.
    pub lead: Arc<super::Lead>,
}

/// The current alert loop's queue, when alert email is on (see [`super::alerts`]); one per process, so loops
/// a reload keeps feed the new plan's alert loop. Unbounded: handing a run over never waits for alerting.
/// Replacing the queue closes the old one: its loop folds in what it was sent, then ends.
#[derive(Debug, Default)]
pub struct AlertFeed(std::sync::RwLock<Option<tokio::sync::mpsc::UnboundedSender<ProbeRecord>>>);

impl AlertFeed {
    /// Hands `record` to the alert loop, if alert email is on.
    pub fn send(&self, record: &ProbeRecord) {
        let queue = self
            .0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(queue) = queue.as_ref() {
            let _ = queue.send(record.clone());
        }
    }

    /// Sets the queue (`None`: alert email off, or stopping).
    pub fn replace(&self, queue: Option<tokio::sync::mpsc::UnboundedSender<ProbeRecord>>) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = queue;
    }
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

/// Logs a leader's write that failed, unless the store refused it because the lease moved on (the agent
/// then steps down, which is logged once).
pub fn report_leader_error(lead: &super::Lead, error: &StoreError, what: &str) {
    if !lead.refused(error) {
        tracing::error!(error = %error, "{what}");
    }
}

/// What was told of each alert-state key starting with `prefix` (SLO tiers, certificate warnings), as stored;
/// a store that cannot be read tells nothing (logged as `what`), so the loop starts fresh.
pub async fn told_states(
    store: &Arc<Mutex<Store>>,
    prefix: &'static str,
    what: &'static str,
) -> std::collections::HashMap<String, bool> {
    match store_task(store, |store| store.alert_states::<serde_json::Value>()).await {
        Ok(states) => states
            .into_iter()
            .filter(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key, value.as_bool().unwrap_or(false)))
            .collect(),
        Err(e) => {
            tracing::error!(error = %e, "{what}: cannot read what was told; starting fresh");
            std::collections::HashMap::new()
        }
    }
}

/// Runs `work` on `store` from a blocking thread — unless nobody waits for it any more when the store is
/// free: a loop stopped while its work waited for the store (behind a rebuild, say) does not start that work
/// (its answer is then [`StoreError::Task`], which nobody reads), so a stop never queues behind it.
pub async fn store_task<T: Send + 'static>(
    store: &Arc<Mutex<Store>>,
    work: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = store.clone();
    let waiting = Arc::new(());
    let still_waiting = Arc::downgrade(&waiting);
    let done = tokio::task::spawn_blocking(move || {
        let store = store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if still_waiting.upgrade().is_none() {
            return Err(StoreError::Task(
                "nobody waits for this work any more".into(),
            ));
        }
        work(&store)
    })
    .await;
    drop(waiting);
    done.unwrap_or_else(|e| {
        Err(StoreError::Sql(rusqlite::Error::ToSqlConversionFailure(
            Box::new(e),
        )))
    })
}
