//! Pruning by tier (`run.retention_*`), in batches: each batch deletes at most [`BATCH`] rows in its own short
//! transaction, and [`prune`] takes the store's lock for one batch at a time, so a probe's write waits for one
//! batch at most. Then the freed pages go back to the file system in bounded steps (incremental vacuum), so
//! the file does not grow without bound.

use super::db::args;
use super::tiers::{Tier, advance, complete_from};
use super::{CACHE_KIB, SCAN_CACHE_KIB, Store, StoreResult};
use crate::history::{Cutoffs, Level};
use std::sync::Mutex;

/// The most rows one batch deletes.
pub const BATCH: usize = 5_000;
/// The most pages one vacuum step gives back (4 MiB of 4 KiB pages).
pub const VACUUM_PAGES: u32 = 1_024;
/// Passed runs are looked for from a minute before the raw runs' instant: a store started from its oldest
/// run (schema 4) may hold passes in the minute before.
const PASS_SLACK_MS: u64 = 60_000;

/// What a pruning did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneSummary {
    /// Deleting transactions, each taken with the lock on its own.
    pub batches: u32,
    /// Vacuum steps (each with the lock on its own too).
    pub vacuum_steps: u32,
    /// Runs deleted before `run.retention_failures` (any verdict).
    pub runs: u64,
    /// Passed runs deleted before `run.retention_raw`.
    pub passes: u64,
    /// Rollup rows deleted per level: minute, hour, day.
    pub rows: [u64; 3],
    /// Budget ledger entries deleted.
    pub spends: u64,
    /// Pages given back to the file system.
    pub pages: u64,
}

/// Where a pruning is: the tier it works on and its place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Failures,
    /// Passed runs from this instant on.
    Passes(Option<u64>),
    /// Rows of a level, probe by probe: the probe being pruned (`None`: find the first).
    Rows(Level, Option<String>),
    Budget,
    Vacuum,
    Done,
}

/// A pruning in progress (see [`Store::prune_batch`]).
#[derive(Debug, Clone)]
pub struct Pruning {
    cutoffs: Cutoffs,
    batch: usize,
    step: Step,
    summary: PruneSummary,
}

impl Pruning {
    /// A pruning at `cutoffs`, deleting at most `batch` rows a transaction.
    pub fn new(cutoffs: Cutoffs, batch: usize) -> Pruning {
        Pruning {
            cutoffs,
            batch: batch.max(1),
            step: Step::Failures,
            summary: PruneSummary::default(),
        }
    }

    pub fn summary(&self) -> &PruneSummary {
        &self.summary
    }

    /// The step after `step`.
    fn next(&self, step: &Step) -> Step {
        match step {
            Step::Failures => Step::Passes(None),
            Step::Passes(_) => Step::Rows(Level::Minute, None),
            Step::Rows(Level::Minute, _) => Step::Rows(Level::Hour, None),
            Step::Rows(Level::Hour, _) if self.cutoffs.day_ms.is_some() => {
                Step::Rows(Level::Day, None)
            }
            Step::Rows(..) => Step::Budget,
            Step::Budget => Step::Vacuum,
            Step::Vacuum | Step::Done => Step::Done,
        }
    }
}

/// Prunes `store` to `cutoffs`, locking it for one batch at a time; returns what went. The store keeps
/// SQLite's default cache meanwhile ([`SCAN_CACHE_KIB`]: a pruning reads each page it deletes from once), and
/// frees the pages it read when done, whether the pruning finished or failed.
pub fn prune(store: &Mutex<Store>, cutoffs: Cutoffs) -> StoreResult<PruneSummary> {
    let locked = || {
        store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    locked().cache_pages(SCAN_CACHE_KIB)?;
    let mut pruning = Pruning::new(cutoffs, BATCH);
    let pruned = loop {
        match locked().prune_batch(&mut pruning) {
            Ok(true) => {}
            Ok(false) => break Ok(pruning.summary),
            Err(e) => break Err(e),
        }
    };
    // The pages a pruning read are of data now gone: not worth the memory they hold.
    let store = locked();
    store.release_cached_pages()?;
    store.cache_pages(CACHE_KIB)?;
    pruned
}

impl Store {
    /// Frees the pages the store keeps in memory (`PRAGMA shrink_memory`); later reads fill it again.
    /// (PostgreSQL keeps its own cache: nothing to do.)
    pub fn release_cached_pages(&self) -> StoreResult<()> {
        match self.db.sqlite() {
            Some(conn) => Ok(conn.execute_batch("PRAGMA shrink_memory")?),
            None => Ok(()),
        }
    }

    /// One batch of `pruning`, in its own transaction: at most its batch of rows deleted (or one vacuum
    /// step). Returns whether more remains. A tier's instant moves forward in its first batch.
    pub fn prune_batch(&self, pruning: &mut Pruning) -> StoreResult<bool> {
        if pruning.step == Step::Done {
            return Ok(false);
        }
        let finished = if pruning.step == Step::Vacuum {
            pruning.summary.vacuum_steps += 1;
            self.vacuum_step(pruning)?
        } else {
            let finished = self.atomically_unnamed(|store| store.delete_batch(pruning))?;
            pruning.summary.batches += 1;
            finished
        };
        if finished {
            pruning.step = pruning.next(&pruning.step);
        }
        Ok(pruning.step != Step::Done)
    }

    /// Deletes one batch of the current step; true when the step is finished.
    fn delete_batch(&self, pruning: &mut Pruning) -> StoreResult<bool> {
        let (cut, n) = (pruning.cutoffs, pruning.batch);
        let limit = n as i64;
        match pruning.step.clone() {
            Step::Failures => {
                // Runs of every verdict go before this cut too.
                advance(&self.db, Tier::Failures, cut.failures_ms)?;
                advance(&self.db, Tier::Raw, cut.failures_ms)?;
                let gone = self.db.execute(
                    "DELETE FROM records WHERE id IN (SELECT id FROM records WHERE scheduled_at_ms < ?1
                     ORDER BY scheduled_at_ms LIMIT ?2)",
                    args![cut.failures_ms as i64, limit],
                )?;
                pruning.summary.runs += gone;
                Ok(gone < n as u64)
            }
            Step::Passes(from) => {
                let from = match from {
                    Some(from) => from,
                    None => {
                        let from = complete_from(&self.db, Tier::Raw)?;
                        advance(&self.db, Tier::Raw, cut.raw_ms)?;
                        from.saturating_sub(PASS_SLACK_MS)
                    }
                };
                let gone: Vec<i64> = self.db.query_map(
                    "DELETE FROM records WHERE id IN (SELECT id FROM records
                     WHERE scheduled_at_ms >= ?1 AND scheduled_at_ms < ?2 AND verdict = 'pass'
                     ORDER BY scheduled_at_ms LIMIT ?3) RETURNING scheduled_at_ms",
                    args![from as i64, cut.raw_ms as i64, limit],
                    |r| r.get(0),
                )?;
                pruning.summary.passes += gone.len() as u64;
                // The next batch starts at the latest run this one deleted (failures kept before it are
                // not looked at again).
                let latest = gone.iter().max().map_or(from, |&ms| ms as u64);
                pruning.step = Step::Passes(Some(latest));
                Ok(gone.len() < n)
            }
            Step::Rows(level, probe) => self.delete_rows(pruning, level, probe),
            Step::Budget => {
                let gone = self.db.execute(
                    "DELETE FROM budget_spend WHERE id IN (SELECT id FROM budget_spend WHERE at_ms < ?1
                     ORDER BY at_ms LIMIT ?2)",
                    args![cut.budget_ms as i64, limit],
                )?;
                pruning.summary.spends += gone;
                Ok(gone < n as u64)
            }
            Step::Vacuum | Step::Done => Ok(true),
        }
    }

    /// Deletes a batch of `level`'s rows before its cut, probe by probe (each probe's rows are one range of
    /// the primary key); true when every probe is done.
    fn delete_rows(
        &self,
        pruning: &mut Pruning,
        level: Level,
        mut probe: Option<String>,
    ) -> StoreResult<bool> {
        let code = super::rollups::code(level);
        let cut = match level {
            Level::Minute => pruning.cutoffs.minute_ms,
            Level::Hour => pruning.cutoffs.hour_ms,
            Level::Day => pruning.cutoffs.day_ms.unwrap_or(0),
        };
        if probe.is_none() {
            advance(&self.db, Tier::Rollup(level), cut)?;
        }
        let mut left = pruning.batch;
        let next_probe = |after: &str| {
            self.db.query_opt(
                "SELECT probe FROM rollups WHERE level = ?1 AND probe > ?2 ORDER BY probe LIMIT 1",
                args![code, after],
                |r| r.get::<String>(0),
            )
        };
        loop {
            let current = match probe.take() {
                Some(p) => p,
                None => match next_probe("")? {
                    Some(p) => p,
                    None => return Ok(true),
                },
            };
            // The first row beyond this batch's share, if the probe has that many to go.
            let beyond: Option<i64> = self.db.query_opt(
                "SELECT start_ms FROM rollups WHERE level = ?1 AND probe = ?2 AND start_ms < ?3
                 ORDER BY start_ms LIMIT 1 OFFSET ?4",
                args![code, &current, cut as i64, left as i64],
                |r| r.get(0),
            )?;
            let bound = beyond.unwrap_or(cut as i64);
            let gone = self.db.execute(
                "DELETE FROM rollups WHERE level = ?1 AND probe = ?2 AND start_ms < ?3",
                args![code, &current, bound],
            )?;
            super::rollup_classes::prune(&self.db, level, &current, bound)?;
            pruning.summary.rows[level_index(level)] += gone;
            left -= (gone as usize).min(left);
            if beyond.is_some() || left == 0 {
                // Full: this probe may have more; the next batch takes it up again.
                pruning.step = Step::Rows(level, Some(current));
                return Ok(false);
            }
            match next_probe(&current)? {
                Some(p) => probe = Some(p),
                None => return Ok(true),
            }
        }
    }

    /// Gives back at most [`VACUUM_PAGES`] free pages; true when none is left (or the store does not
    /// vacuum incrementally). A store checkpoints after its last step, so the file shrinks.
    /// Not applicable to PostgreSQL: its autovacuum makes the space of deleted rows reusable.
    fn vacuum_step(&self, pruning: &mut Pruning) -> StoreResult<bool> {
        let Some(conn) = self.db.sqlite() else {
            return Ok(true);
        };
        let mode: i64 = conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))?;
        let free = || -> StoreResult<u64> {
            Ok(conn.query_row("PRAGMA freelist_count", [], |r| r.get::<_, i64>(0))? as u64)
        };
        if mode != INCREMENTAL {
            return Ok(true);
        }
        let before = free()?;
        // Each step of the statement gives back one page: step it to the end.
        let mut stmt =
            conn.prepare_cached(&format!("PRAGMA incremental_vacuum({VACUUM_PAGES})"))?;
        let mut rows = stmt.query([])?;
        while rows.next()?.is_some() {}
        let after = free()?;
        pruning.summary.pages += before.saturating_sub(after);
        if after > 0 && after < before {
            return Ok(false);
        }
        rusqlite::OptionalExtension::optional(conn.query_row(
            "PRAGMA wal_checkpoint(PASSIVE)",
            [],
            |_| Ok(()),
        ))?;
        Ok(true)
    }
}

/// `PRAGMA auto_vacuum`'s value for incremental.
pub(super) const INCREMENTAL: i64 = 2;

fn level_index(level: Level) -> usize {
    match level {
        Level::Minute => 0,
        Level::Hour => 1,
        Level::Day => 2,
    }
}

#[cfg(test)]
#[path = "prune_tests.rs"]
mod tests;
