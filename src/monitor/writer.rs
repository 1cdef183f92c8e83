//! The record writer: one task that commits probe records in batches (one transaction, one fsync per batch),
//! so a thousand runs a second cost a few commits, not a thousand, and probing never waits on the disk.

use crate::probe::ProbeRecord;
use crate::store::Store;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Records queued for the writer, at most; beyond it senders wait (back-pressure, nothing dropped).
const QUEUE: usize = 10_000;
/// Records per transaction, at most.
const BATCH: usize = 1_000;

/// Starts the writer. It ends, after committing everything queued, when every sender is dropped; its
/// result is the number of records committed.
pub fn spawn_writer(
    store: Arc<Mutex<Store>>,
) -> (mpsc::Sender<ProbeRecord>, tokio::task::JoinHandle<u64>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (tx, tokio::spawn(write_loop(rx, store)))
}

async fn write_loop(mut rx: mpsc::Receiver<ProbeRecord>, store: Arc<Mutex<Store>>) -> u64 {
    let mut committed = 0;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(record) => batch.push(record),
                Err(_) => break,
            }
        }
        let store = store.clone();
        let size = batch.len() as u64;
        let written = tokio::task::spawn_blocking(move || {
            let store = store
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            store.insert_records(&batch)
        })
        .await;
        match written {
            Ok(Ok(())) => committed += size,
            Ok(Err(e)) => tracing::error!(error = %e, records = size, "cannot store probe records"),
            Err(e) => tracing::error!(error = %e, records = size, "the store task failed"),
        }
    }
    committed
}
