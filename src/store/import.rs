//! Loading runs from JSON Lines (adapter): `store import` reads the export format line by line and stores
//! the runs and their rollups in one transaction, so a file is imported whole or not at all.

use super::db::{Begin, args};
use super::{MAX_LINE, Store, StoreError};
use crate::probe::ProbeRecord;
use std::collections::HashSet;
use std::io::{BufRead, Read};

/// What tells two runs apart: their probe, location and scheduled instant.
type RunKey = (String, String, u64);

/// Runs stored together (one `insert_records` each, inside the file's transaction).
const BATCH: usize = 5_000;

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    /// Runs stored.
    pub runs: u64,
    /// Runs skipped: the store (or an earlier line) already held a run of the same probe from the same
    /// location scheduled at the same millisecond.
    pub duplicates: u64,
}

/// Why nothing was imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}:{line}: {message}")]
    Line {
        file: String,
        line: u64,
        message: String,
    },
    #[error("{file}: cannot read: {error}")]
    Read { file: String, error: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Stores every run of `input` (JSON Lines, as [`Store::export`] writes them; named `source` in errors)
    /// with its rollups, in one transaction: the first line that is not a run (or longer than
    /// [`super::MAX_LINE`]) is an error naming its number, and nothing is stored. A run whose probe and
    /// scheduled millisecond the store already holds is skipped and counted.
    pub fn import(&self, input: impl BufRead, source: &str) -> Result<Imported, ImportError> {
        // A line that is not a run undoes the transaction like a store error, and is the answer.
        let mut refused = None;
        let imported = self.db.atomically_as(Begin::Immediate, || {
            self.import_all(input, source).map_err(|e| match e {
                ImportError::Store(e) => e,
                other => {
                    refused = Some(other);
                    StoreError::Interrupted
                }
            })
        });
        match (refused, imported) {
            (Some(refused), _) => Err(refused),
            (None, imported) => Ok(imported.map_err(|e| self.named(e))?),
        }
    }

    fn import_all(&self, mut input: impl BufRead, source: &str) -> Result<Imported, ImportError> {
        let mut done = Imported {
            runs: 0,
            duplicates: 0,
        };
        let mut batch: Vec<ProbeRecord> = Vec::with_capacity(BATCH);
        let mut in_batch: HashSet<RunKey> = HashSet::new();
        let mut buf = Vec::new();
        let mut number = 0;
        loop {
            buf.clear();
            // One byte past the limit and the newline: enough to tell a line is too long.
            let read = (&mut input)
                .take(MAX_LINE as u64 + 2)
                .read_until(b'\n', &mut buf)
                .map_err(|error| ImportError::Read {
                    file: source.to_string(),
                    error,
                })?;
            if read == 0 {
                break;
            }
            number += 1;
            let text = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let record = super::import_line(text).map_err(|message| ImportError::Line {
                file: source.to_string(),
                line: number,
                message,
            })?;
            let key = (
                record.probe.clone(),
                record.location.clone(),
                record.scheduled_at_ms,
            );
            if in_batch.contains(&key) || self.holds_run(&key)? {
                done.duplicates += 1;
                continue;
            }
            in_batch.insert(key);
            batch.push(record);
            if batch.len() == BATCH {
                self.store_batch(&mut batch, &mut in_batch, &mut done)?;
            }
        }
        self.store_batch(&mut batch, &mut in_batch, &mut done)?;
        Ok(done)
    }

    fn store_batch(
        &self,
        batch: &mut Vec<ProbeRecord>,
        in_batch: &mut HashSet<RunKey>,
        done: &mut Imported,
    ) -> Result<(), StoreError> {
        self.insert_records(batch).map_err(|e| self.named(e))?;
        done.runs += batch.len() as u64;
        batch.clear();
        in_batch.clear();
        Ok(())
    }

    /// Whether the store holds a run of this probe from this location scheduled at this instant.
    fn holds_run(&self, (probe, location, at_ms): &RunKey) -> Result<bool, StoreError> {
        self.db.query_row(
            "SELECT EXISTS (SELECT 1 FROM records
                            WHERE probe = ?1 AND scheduled_at_ms = ?2 AND location = ?3)",
            args![probe, *at_ms as i64, location],
            |r| r.get(0),
        )
    }
}

#[cfg(test)]
#[path = "import_tests.rs"]
mod tests;
