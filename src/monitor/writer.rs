//! The record writer: one task that commits probe records in batches (one transaction, one fsync per batch),
//! so a thousand runs a second cost a few commits, not a thousand, and probing never waits on the disk.
//!
//! A batch the store refuses (a write lock held past the busy timeout, a full disk, a damaged file) is kept
//! and retried with backoff while new records keep queueing; `/healthz` says unhealthy, with the reason, until
//! a write succeeds. The queue is bounded (`run.max_waiting_records`, 50,000 by default):
//! past it the oldest records are dropped, counted (`/healthz`, the `oewsprobe.records.dropped` metric) and
//! logged — never silently.

use crate::store::{FinishedRun, Store, StoreError};
use crate::telemetry::Liveness;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The channel from the probe loops; the writer drains it at once into its own queue, so senders never wait
/// on the store.
const CHANNEL: usize = 10_000;
/// Records per transaction, at most.
const BATCH: usize = 1_000;
/// The first wait after a failed write; it doubles per failure up to [`BACKOFF_MAX`].
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// After the stop, how long records the store keeps refusing are still retried before they are given up.
pub const STOP_RETRY: Duration = Duration::from_secs(10);

/// Starts the writer: it stores each finished run and lowers the run's budget reservation to what it spent, in
/// the batch's transaction. It ends, after committing everything queued (or giving up on it [`STOP_RETRY`] after
/// the stop, saying how much), when every sender is dropped; its result is the number of records committed.
/// At most `limit` records wait for the store; `liveness` is told how many wait and how many were dropped.
pub fn spawn_writer(
    store: Arc<Mutex<Store>>,
    liveness: Arc<Liveness>,
    limit: usize,
) -> (mpsc::Sender<FinishedRun>, tokio::task::JoinHandle<u64>) {
    let (tx, rx) = mpsc::channel(CHANNEL);
    (tx, tokio::spawn(write_loop(rx, store, liveness, limit)))
}

/// Records waiting for the store, bounded (pure).
#[derive(Debug)]
pub struct Pending<T> {
    queue: VecDeque<T>,
    limit: usize,
    /// Records dropped because the queue was full, in all.
    pub dropped: u64,
}

impl<T> Pending<T> {
    pub fn new(limit: usize) -> Pending<T> {
        Pending {
            queue: VecDeque::new(),
            limit,
            dropped: 0,
        }
    }

    /// Queues `item`; when full, drops the oldest and returns it.
    pub fn push(&mut self, item: T) -> Option<T> {
        self.queue.push_back(item);
        if self.queue.len() > self.limit {
            self.dropped += 1;
            return self.queue.pop_front();
        }
        None
    }

    /// Up to `n` of the oldest, taken out.
    pub fn take(&mut self, n: usize) -> Vec<T> {
        let n = n.min(self.queue.len());
        self.queue.drain(..n).collect()
    }

    /// Puts a batch that could not be written back in front, in its order (the newest beyond the limit
    /// are not dropped here: they were counted in when they came).
    pub fn put_back(&mut self, batch: Vec<T>) {
        for item in batch.into_iter().rev() {
            self.queue.push_front(item);
        }
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// The most items kept.
    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// The wait after `failures` consecutive failed writes (pure): doubling from [`BACKOFF_FIRST`], at most
/// [`BACKOFF_MAX`].
pub fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    BACKOFF_FIRST
        .saturating_mul(1 << doublings)
        .min(BACKOFF_MAX)
}

/// The `/healthz` reason while records cannot be written.
pub fn trouble(error: &StoreError, waiting: usize) -> String {
    format!("probe records cannot be written ({waiting} waiting): {error}")
}

async fn write_loop(
    mut rx: mpsc::Receiver<FinishedRun>,
    store: Arc<Mutex<Store>>,
    liveness: Arc<Liveness>,
    limit: usize,
) -> u64 {
    let mut pending = Pending::new(limit);
    let mut committed = 0;
    let mut failures = 0u32;
    let mut stopped_at: Option<Instant> = None;
    loop {
        if pending.is_empty() {
            match rx.recv().await {
                Some(record) => queue(&mut pending, record, &liveness),
                None => break,
            }
        }
        while let Ok(record) = rx.try_recv() {
            queue(&mut pending, record, &liveness);
        }
        let batch = pending.take(BATCH);
        let size = batch.len() as u64;
        match write(&store, batch).await {
            Ok(()) => {
                committed += size;
                if failures > 0 {
                    tracing::warn!(
                        after_failures = failures,
                        waiting = pending.len(),
                        "probe records are being written again"
                    );
                    liveness.set_trouble(None);
                }
                failures = 0;
            }
            Err((batch, e)) => {
                failures += 1;
                pending.put_back(batch);
                liveness.set_trouble(Some(trouble(&e, pending.len())));
                if failures == 1 || failures.is_power_of_two() {
                    tracing::error!(error = %e, waiting = pending.len(), failures, "cannot store probe records; keeping them and retrying");
                }
                if let Some(at) = stopped_at
                    && at.elapsed() >= STOP_RETRY
                {
                    tracing::error!(error = %e, lost = pending.len(), "stopping: probe records the store refused are lost");
                    break;
                }
                stopped_at = wait(
                    &mut rx,
                    &mut pending,
                    &liveness,
                    backoff(failures),
                    stopped_at,
                )
                .await;
            }
        }
        liveness.set_records(pending.len(), pending.dropped);
        if pending.is_empty() && stopped_at.is_some() {
            break;
        }
    }
    if pending.dropped > 0 {
        tracing::error!(
            dropped = pending.dropped,
            "probe records dropped in all because the queue for the store was full"
        );
    }
    liveness.set_trouble(None);
    committed
}

/// Queues `record`, saying so when the queue is full and the oldest record is dropped; tells `liveness`.
fn queue(pending: &mut Pending<FinishedRun>, run: FinishedRun, liveness: &Liveness) {
    if let Some(FinishedRun { record: lost, .. }) = pending.push(run) {
        let dropped = pending.dropped;
        if dropped == 1 || dropped.is_power_of_two() {
            tracing::error!(
                probe = %lost.probe,
                scheduled_at_ms = lost.scheduled_at_ms,
                dropped,
                limit = pending.limit(),
                "the queue for the store is full: dropped the oldest probe record"
            );
        }
    }
    liveness.set_records(pending.len(), pending.dropped);
}

/// Waits `delay`, queueing what comes meanwhile; returns when the senders were all dropped (the stop).
async fn wait(
    rx: &mut mpsc::Receiver<FinishedRun>,
    pending: &mut Pending<FinishedRun>,
    liveness: &Liveness,
    delay: Duration,
    mut stopped_at: Option<Instant>,
) -> Option<Instant> {
    let sleep = tokio::time::sleep(delay);
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            () = &mut sleep => return stopped_at,
            received = rx.recv(), if stopped_at.is_none() => match received {
                Some(record) => queue(pending, record, liveness),
                None => stopped_at = Some(Instant::now()),
            },
        }
    }
}

/// Commits `batch`, or hands it back with the error.
async fn write(
    store: &Arc<Mutex<Store>>,
    batch: Vec<FinishedRun>,
) -> Result<(), (Vec<FinishedRun>, StoreError)> {
    let store = store.clone();
    let size = batch.len();
    let written = tokio::task::spawn_blocking(move || {
        let store = store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let result = store.insert_runs(&batch).map_err(|e| store.named(e));
        (batch, result)
    })
    .await;
    match written {
        Ok((_, Ok(()))) => Ok(()),
        Ok((batch, Err(e))) => Err((batch, e)),
        Err(e) => {
            tracing::error!(error = %e, lost = size, "the store task failed: probe records lost");
            Err((Vec::new(), StoreError::Task(e.to_string())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_cap() {
        let table = [
            (1, 100),
            (2, 200),
            (3, 400),
            (6, 3_200),
            (7, 5_000),
            (40, 5_000),
            (u32::MAX, 5_000),
        ];
        for (failures, ms) in table {
            assert_eq!(backoff(failures), Duration::from_millis(ms), "{failures}");
        }
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_counts_it() {
        let mut pending = Pending::new(3);
        let dropped: Vec<Option<u32>> = (1..=5).map(|i| pending.push(i)).collect();
        assert_eq!(dropped, [None, None, None, Some(1), Some(2)]);
        assert_eq!(pending.dropped, 2);
        let batch = pending.take(2);
        assert_eq!(batch, [3, 4]);
        pending.put_back(batch);
        assert_eq!(pending.take(10), [3, 4, 5]);
        assert!(pending.is_empty());
    }
}
