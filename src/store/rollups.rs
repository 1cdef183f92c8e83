//! The rollup rows (`rollups`) beside the raw runs: updated in the transaction that inserts the runs,
//! rebuilt from the raw runs at migration and on demand, read by level and bucket range. What a row holds is
//! `history`'s; this file only moves it in and out of SQLite.

use super::db::{Db, Dialect, args};
use super::{Store, StoreError, StoreResult};
use crate::history::{Histogram, Level, Rollup, Run, Thresholds, roll_up};
use crate::probe::{ProbeRecord, Verdict};
use std::sync::atomic::{AtomicBool, Ordering};

/// How many runs a rebuild rolls up between two looks at its stop flag (and its progress line): a few
/// milliseconds of work.
const STOP_CHECK: u64 = 8_192;

/// A stop flag never set: for rebuilds that run to their end (migrations, `store rebuild-rollups`).
pub(super) static NEVER: AtomicBool = AtomicBool::new(false);

/// The `level` column: 1 minute, 2 hour, 3 day.
pub(super) fn code(level: Level) -> i64 {
    match level {
        Level::Minute => 1,
        Level::Hour => 2,
        Level::Day => 3,
    }
}

/// The index a count-only read of `level`'s rows goes through: the counts of hour and day rows without their
/// latency distributions (a day row's is about 260 bytes), so that the pages read are a tenth as many.
/// (SQLite only: PostgreSQL's planner takes no such hint, and finds the partial index by itself.)
pub(super) fn counts_index(dialect: Dialect, level: Level) -> &'static str {
    match (dialect, level) {
        (Dialect::Postgres, _) | (_, Level::Minute) => "",
        (Dialect::Sqlite, Level::Hour) => "INDEXED BY rollup_hour_counts",
        (Dialect::Sqlite, Level::Day) => "INDEXED BY rollup_day_counts",
    }
}

impl Store {
    /// The thresholds the rollups track (see [`Store::track_latency_thresholds`]).
    pub fn latency_thresholds(&self) -> StoreResult<Thresholds> {
        thresholds(&self.db)
    }

    /// Makes the rollups track exactly `wanted` (per probe, latency thresholds in µs; the plan's latency
    /// objectives): when it differs from what they track, the set is replaced and the rollups are rebuilt
    /// from the raw runs, in one transaction. Returns whether a rebuild was needed.
    pub fn track_latency_thresholds(&self, wanted: &Thresholds) -> StoreResult<bool> {
        self.track_latency_thresholds_unless(wanted, &NEVER)
    }

    /// [`Store::track_latency_thresholds`], given up when `stop` is set during the rebuild (checked every
    /// few thousand runs): then nothing changes, the thresholds tracked and their rollups stay as they were,
    /// and the answer is [`StoreError::Interrupted`].
    pub fn track_latency_thresholds_unless(
        &self,
        wanted: &Thresholds,
        stop: &AtomicBool,
    ) -> StoreResult<bool> {
        let wanted: Thresholds = wanted
            .iter()
            .filter(|(_, t)| !t.is_empty())
            .map(|(p, t)| {
                let mut t = t.clone();
                t.sort_unstable();
                t.dedup();
                (p.clone(), t)
            })
            .collect();
        if self.latency_thresholds()? == wanted {
            return Ok(false);
        }
        self.atomically(|store| {
            store.db.execute("DELETE FROM rollup_thresholds", &[])?;
            for (probe, list) in &wanted {
                for &t in list {
                    store.db.execute(
                        "INSERT INTO rollup_thresholds (probe, threshold_us) VALUES (?1, ?2)",
                        args![probe, t as i64],
                    )?;
                }
            }
            rebuild_held(&store.db, stop)
        })?;
        Ok(true)
    }

    /// Recomputes the rollups from the raw runs, in one transaction: afterwards the rollups of every bucket
    /// from when the raw runs are complete describe exactly the runs the store holds. Older rows (of runs
    /// pruned since, or of a bucket holding that instant) stay as they are.
    /// The failure-class counts are counted again the same way.
    pub fn rebuild_rollups(&self) -> StoreResult<()> {
        self.atomically(|store| {
            rebuild_held(&store.db, &NEVER)?;
            let from = super::tiers::complete_from(&store.db, super::tiers::Tier::Raw)?;
            super::rollup_classes::rebuild(&store.db, clamp(from))
        })
    }

    /// The rows of `probe` at `level` whose buckets start in `[first_ms, last_ms]`, oldest first, each
    /// bucket's rows of every location merged into one.
    pub fn rollup_rows(
        &self,
        probe: &str,
        level: Level,
        first_ms: u64,
        last_ms: u64,
    ) -> StoreResult<Vec<(u64, Rollup)>> {
        let rows = self.db.query_map(
            "SELECT start_ms, pass, fail, inconclusive, latency, slow FROM rollups
             WHERE level = ?1 AND probe = ?2 AND start_ms BETWEEN ?3 AND ?4 ORDER BY start_ms, location",
            args![code(level), probe, clamp(first_ms), clamp(last_ms)],
            |r| {
                let counts = (r.get(1)?, r.get(2)?, r.get(3)?);
                let row = decode(counts, &r.get::<Vec<u8>>(4)?, &r.get::<Vec<u8>>(5)?)?;
                Ok((r.get::<i64>(0)? as u64, row))
            },
        )?;
        let mut out: Vec<(u64, Rollup)> = Vec::with_capacity(rows.len());
        for (start, row) in rows {
            match out.last_mut() {
                Some((last, merged)) if *last == start => merged.merge(&row),
                _ => out.push((start, row)),
            }
        }
        Ok(out)
    }

    /// How many rollup rows the store holds at `level`.
    pub fn rollup_count(&self, level: Level) -> StoreResult<u64> {
        let n: i64 = self.db.query_row(
            "SELECT COUNT(*) FROM rollups WHERE level = ?1",
            args![code(level)],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }
}

/// An instant as SQLite's signed integer; later than it can hold means its latest.
fn clamp(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn thresholds(db: &Db) -> StoreResult<Thresholds> {
    let rows = db.query_map(
        "SELECT probe, threshold_us FROM rollup_thresholds ORDER BY probe, threshold_us",
        &[],
        |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)),
    )?;
    let mut out = Thresholds::new();
    for (probe, t) in rows {
        out.entry(probe).or_default().push(t as u64);
    }
    Ok(out)
}

fn run_of(record: &ProbeRecord) -> (&str, Run) {
    (
        record.probe.as_str(),
        Run {
            at_ms: record.scheduled_at_ms,
            verdict: record.verdict,
            latency_us: crate::history::micros(record.latency),
        },
    )
}

/// `records` grouped by their location, each group in the order given.
pub(super) fn by_location<'r>(
    records: &[&'r ProbeRecord],
) -> std::collections::BTreeMap<&'r str, Vec<&'r ProbeRecord>> {
    let mut out: std::collections::BTreeMap<&str, Vec<&ProbeRecord>> = Default::default();
    for record in records {
        out.entry(record.location.as_str())
            .or_default()
            .push(record);
    }
    out
}

/// Adds `records` to their minute, hour and day rows (each location's rows apart), inside the caller's
/// transaction: a batch costs one read and one write per row it touches (for a batch within one minute from
/// one location: three per probe).
pub(super) fn add<'r>(
    db: &Db,
    records: impl IntoIterator<Item = &'r ProbeRecord>,
) -> StoreResult<()> {
    let records: Vec<&ProbeRecord> = records.into_iter().collect();
    lock_probes(db, records.iter().map(|r| r.probe.as_str()))?;
    super::rollup_classes::add(db, &records)?;
    let tracked = thresholds(db)?;
    for (location, records) in by_location(&records) {
        let rows = roll_up(records.iter().copied().map(run_of), &tracked);
        for ((level, probe, start), delta) in rows {
            let old = db.query_opt(
                "SELECT pass, fail, inconclusive, latency, slow FROM rollups
                 WHERE level = ?1 AND probe = ?2 AND start_ms = ?3 AND location = ?4",
                args![code(level), &probe, start as i64, location],
                |r| {
                    Ok((
                        (r.get(0)?, r.get(1)?, r.get(2)?),
                        r.get::<Vec<u8>>(3)?,
                        r.get::<Vec<u8>>(4)?,
                    ))
                },
            )?;
            let row = match old {
                Some((counts, latency, slow)) => {
                    let mut row = decode(counts, &latency, &slow)?;
                    row.merge(&delta);
                    row
                }
                None => delta,
            };
            write(db, (level, &probe, start, location), &row)?;
        }
    }
    Ok(())
}

/// The advisory lock class of a probe's rollup rows (PostgreSQL).
const ROLLUP_LOCK: i32 = 0x726f_6c6c; // "roll"
/// The advisory lock class of all rollup rows: writers hold it shared, a rebuild alone.
const ROLLUP_ALL_LOCK: i32 = 0x726f_6c61; // "rola"

/// Holds, until the caller's transaction ends, the right to change `probes`' rollup rows: a row is read,
/// merged and written back, and agents writing one PostgreSQL store must not merge from the same old row
/// (one's runs would be lost from it). Taken in name order, first thing in a write (see `records`), so two
/// writers never wait for each other in a circle; before them, all rollups' lock, shared, which a rebuild
/// takes alone. SQLite has one writer at a time: nothing to do.
pub(super) fn lock_probes<'p>(
    db: &Db,
    probes: impl IntoIterator<Item = &'p str>,
) -> StoreResult<()> {
    if db.dialect() != Dialect::Postgres {
        return Ok(());
    }
    db.execute(
        "SELECT pg_advisory_xact_lock_shared(?1, 0)",
        args![ROLLUP_ALL_LOCK],
    )?;
    let probes: std::collections::BTreeSet<&str> = probes.into_iter().collect();
    for probe in probes {
        db.execute(
            "SELECT pg_advisory_xact_lock(?1, hashtext(?2))",
            args![ROLLUP_LOCK, probe],
        )?;
    }
    Ok(())
}

/// A rollup row's key: its level, probe, bucket start and location.
type RowKey<'k> = (Level, &'k str, u64, &'k str);

fn write(db: &Db, (level, probe, start, location): RowKey<'_>, row: &Rollup) -> StoreResult<()> {
    db.execute(
        "INSERT INTO rollups (level, probe, start_ms, location, pass, fail, inconclusive, latency, slow)
         VALUES (?1, ?2, ?3, ?9, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (level, probe, start_ms, location) DO UPDATE SET pass = excluded.pass,
             fail = excluded.fail, inconclusive = excluded.inconclusive, latency = excluded.latency,
             slow = excluded.slow",
        args![
        code(level),
        probe,
        start as i64,
        row.pass as i64,
        row.fail as i64,
        row.inconclusive as i64,
        row.latency.encode(),
        row.encode_slow(),
        location,
        ],
    )?;
    Ok(())
}

pub(super) fn decode(counts: (i64, i64, i64), latency: &[u8], slow: &[u8]) -> StoreResult<Rollup> {
    let damaged = || StoreError::RollupUnreadable;
    Ok(Rollup {
        pass: counts.0 as u64,
        fail: counts.1 as u64,
        inconclusive: counts.2 as u64,
        latency: Histogram::decode(latency).ok_or_else(damaged)?,
        slow: Rollup::decode_slow(slow).ok_or_else(damaged)?,
    })
}

/// [`rebuild`] from when the raw runs are complete (see `tiers`).
fn rebuild_held(db: &Db, stop: &AtomicBool) -> StoreResult<()> {
    rebuild(
        db,
        super::tiers::complete_from(db, super::tiers::Tier::Raw)?,
        stop,
    )
}

/// Deletes every rollup row of a bucket starting at or after `from_ms` and computes them again from the raw
/// runs from then, one probe-day of one location at a time (memory bounded by one probe's runs in one day), inside the
/// caller's transaction. Rows of buckets starting earlier stay: their runs may be pruned. On a terminal,
/// shows its progress. Fails with [`StoreError::Interrupted`] as soon as it sees `stop` set (every
/// [`STOP_CHECK`] runs): the caller's transaction then undoes what it did.
pub(super) fn rebuild(db: &Db, from_ms: u64, stop: &AtomicBool) -> StoreResult<()> {
    let mut progress = super::progress::Progress::on_terminal(|| {
        db.query_row(
            "SELECT COUNT(*) FROM records WHERE scheduled_at_ms >= ?1",
            args![clamp(from_ms)],
            |r| r.get::<i64>(0),
        )
        .map(|n| n as u64)
    })?;
    // Agents writing the same PostgreSQL store wait for the rebuild, and it for their writes in progress
    // (every write holds this lock shared; see `lock_probes`).
    if db.dialect() == Dialect::Postgres {
        db.execute(
            "SELECT pg_advisory_xact_lock(?1, 0)",
            args![ROLLUP_ALL_LOCK],
        )?;
    }
    db.execute(
        "DELETE FROM rollups WHERE start_ms >= ?1",
        args![clamp(from_ms)],
    )?;
    let tracked = thresholds(db)?;
    // One probe's runs from one location in one day.
    let mut day: Vec<(String, String, Run)> = Vec::new();
    let flush = |day: &mut Vec<(String, String, Run)>| -> StoreResult<()> {
        let location = day.first().map_or("", |(_, location, _)| location.as_str());
        let rollups = roll_up(day.iter().map(|(p, _, r)| (p.as_str(), *r)), &tracked);
        for ((level, probe, start), row) in rollups {
            if start >= from_ms {
                write(db, (level, &probe, start, location), &row)?;
            }
        }
        day.clear();
        Ok(())
    };
    let mut done: u64 = 0;
    db.each_row(
        "SELECT probe, scheduled_at_ms, verdict, latency_us, location FROM records
         WHERE scheduled_at_ms >= ?1 ORDER BY probe, location, scheduled_at_ms",
        args![clamp(from_ms)],
        |r| {
            if done % STOP_CHECK == 0 {
                if stop.load(Ordering::Relaxed) {
                    return Err(StoreError::Interrupted);
                }
                if let Some(progress) = progress.as_mut() {
                    progress.update(done);
                }
            }
            done += 1;
            let probe: String = r.get(0)?;
            let location: String = r.get(4)?;
            let verdict: String = r.get(2)?;
            let run = Run {
                at_ms: r.get::<i64>(1)? as u64,
                verdict: Verdict::parse(&verdict).unwrap_or(Verdict::Inconclusive),
                latency_us: r.get::<i64>(3)? as u64,
            };
            if let Some((last_probe, last_location, last)) = day.last()
                && (*last_probe != probe
                    || *last_location != location
                    || Level::Day.start_of(last.at_ms) != Level::Day.start_of(run.at_ms))
            {
                flush(&mut day)?;
            }
            day.push((probe, location, run));
            Ok(())
        },
    )?;
    flush(&mut day)?;
    if let Some(progress) = progress {
        progress.finish();
    }
    Ok(())
}

#[cfg(test)]
#[path = "rollups_tests.rs"]
mod tests;
