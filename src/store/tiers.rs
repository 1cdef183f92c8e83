//! From when each tier of history is complete (`tiers`): raw runs of every verdict, failures, minute, hour
//! and day rows. Pruning moves a tier's instant forward in the transaction of its first batch, before any of
//! its rows go, so a reader never counts on a tier where rows are missing; a store that had no such table
//! (schema 4) gets its instants from the oldest data it holds, rounded up past a bucket that may be partial.

use super::db::{Db, args};
use super::{Store, StoreResult};
use crate::history::{Held, Level};

/// A tier's name in the `tiers` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Runs of every verdict.
    Raw,
    /// Failed and inconclusive runs.
    Failures,
    Rollup(Level),
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Raw => "raw",
            Tier::Failures => "failures",
            Tier::Rollup(level) => level.as_str(),
        }
    }
}

impl Store {
    /// From when each tier is complete (all from the epoch in a store never pruned).
    pub fn held(&self) -> StoreResult<Held> {
        let at = |tier| complete_from(&self.db, tier);
        Ok(Held {
            raw_from_ms: at(Tier::Raw)?,
            minute_from_ms: at(Tier::Rollup(Level::Minute))?,
            hour_from_ms: at(Tier::Rollup(Level::Hour))?,
            day_from_ms: at(Tier::Rollup(Level::Day))?,
        })
    }

    /// From when `tier` is complete.
    pub fn complete_from(&self, tier: Tier) -> StoreResult<u64> {
        complete_from(&self.db, tier)
    }
}

pub(super) fn complete_from(db: &Db, tier: Tier) -> StoreResult<u64> {
    let ms: Option<i64> = db.query_opt(
        "SELECT complete_from_ms FROM tiers WHERE tier = ?1",
        args![tier.as_str()],
        |r| r.get(0),
    )?;
    Ok(ms.map_or(0, |ms| ms as u64))
}

/// Moves `tier`'s instant forward to `ms` (never back), inside the caller's transaction.
pub(super) fn advance(db: &Db, tier: Tier, ms: u64) -> StoreResult<()> {
    db.execute(
        "INSERT INTO tiers (tier, complete_from_ms) VALUES (?1, ?2)
         ON CONFLICT (tier) DO UPDATE SET complete_from_ms = CASE
             WHEN excluded.complete_from_ms > tiers.complete_from_ms THEN excluded.complete_from_ms
             ELSE tiers.complete_from_ms END",
        args![tier.as_str(), ms as i64],
    )?;
    Ok(())
}

/// The instants of a store that kept no record of them (schema 4), from the data it holds: raw runs (and
/// failures) from the minute after the oldest run's (runs before it in its minute may have been pruned), each
/// level from the bucket after its oldest row. A store without data is complete from the epoch.
pub(super) fn start(db: &Db) -> StoreResult<()> {
    let oldest = |sql: &str| -> StoreResult<Option<u64>> {
        let ms: Option<i64> = db.query_row(sql, &[], |r| r.get(0))?;
        Ok(ms.map(|ms| ms as u64))
    };
    let after = |ms: Option<u64>, level: Level| {
        ms.map_or(0, |ms| level.start_of(ms).saturating_add(level.millis()))
    };
    let run = oldest("SELECT MIN(scheduled_at_ms) FROM records")?;
    let raw = match run {
        // The runs may all have been pruned while their rollups stayed: complete after the last minute row.
        None => after(
            oldest("SELECT MAX(start_ms) FROM rollups WHERE level = 1")?,
            Level::Minute,
        ),
        some => after(some, Level::Minute),
    };
    advance(db, Tier::Raw, raw)?;
    advance(db, Tier::Failures, raw)?;
    for level in Level::ALL {
        let sql = format!(
            "SELECT MIN(start_ms) FROM rollups WHERE level = {}",
            super::rollups::code(level)
        );
        advance(db, Tier::Rollup(level), after(oldest(&sql)?, level))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::migrations::migrate_to;
    use super::*;
    use crate::probe::{Finding, ProbeRecord, Timings, Verdict};
    use rusqlite::{Connection, params};
    use std::time::Duration;

    const M: u64 = 60_000;
    const H: u64 = 3_600_000;
    const D: u64 = 86_400_000;
    const T0: u64 = 20_000 * D;

    fn record(at_ms: u64, verdict: Verdict) -> ProbeRecord {
        ProbeRecord {
            location: String::new(),
            latency_percentiles: None,
            probe: "a".into(),
            target: "http://127.0.0.1:8000".into(),
            request: None,
            scheduled_at_ms: at_ms,
            verdict,
            class: None,
            status: Some(200),
            latency: Duration::from_nanos(120_000_600),
            timings: Timings::default(),
            body_bytes: 10,
            queries: 0,
            findings: vec![Finding::new("status", None, "200", "500", None)],
            retry_after: None,
            known_drift: Vec::new(),
            tls: None,
        }
    }

    #[test]
    fn a_store_of_schema_4_opens_with_its_tiers_from_its_oldest_data_and_loses_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("oewsprobe.sqlite");
        // Runs from 5 h 30 min 20 s into a day, pruned before that by the previous version.
        let records: Vec<ProbeRecord> = (0..500u64)
            .map(|i| record(T0 + 5 * H + 30 * M + 20_000 + i * 45_000, Verdict::Pass))
            .collect();
        {
            let db = Db::Sqlite(Connection::open(&path).expect("open"));
            migrate_to(&db, "old", 4).expect("migrate to 4");
            let conn = db.sqlite().expect("SQLite");
            for r in &records {
                conn.execute(
                    "INSERT INTO records (probe, target, scheduled_at_ms, verdict, class, status, latency_us, queries, record_json)
                     VALUES (?1, ?2, ?3, 'pass', NULL, 200, ?4, 0, ?5)",
                    params![r.probe, r.target, r.scheduled_at_ms as i64, crate::history::micros(r.latency) as i64,
                        serde_json::to_string(r).expect("json")],
                )
                .expect("insert");
            }
            // The rollups as schema 4 kept them: no location in their key.
            let runs = records.iter().map(|r| {
                let run = crate::history::Run {
                    at_ms: r.scheduled_at_ms,
                    verdict: r.verdict,
                    latency_us: crate::history::micros(r.latency),
                };
                (r.probe.as_str(), run)
            });
            for ((level, probe, start), row) in crate::history::roll_up(runs, &Default::default()) {
                conn.execute(
                    "INSERT INTO rollups (level, probe, start_ms, pass, fail, inconclusive, latency, slow)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![super::super::rollups::code(level), probe, start as i64, row.pass as i64,
                        row.fail as i64, row.inconclusive as i64, row.latency.encode(), row.encode_slow()],
                )
                .expect("a schema 4 rollup row");
            }
            let mode: i64 = conn
                .query_row("PRAGMA auto_vacuum", [], |r| r.get(0))
                .expect("mode");
            assert_eq!(
                mode, 0,
                "the previous version made files without auto_vacuum"
            );
        }
        let store = Store::open(&path).expect("open with schema 5");
        assert_eq!(store.schema_version().expect("version"), 11);
        assert_eq!(
            store.held().expect("held"),
            Held {
                raw_from_ms: T0 + 5 * H + 31 * M,
                minute_from_ms: T0 + 5 * H + 31 * M,
                hour_from_ms: T0 + 6 * H,
                day_from_ms: T0 + D,
            }
        );
        assert_eq!(
            store.complete_from(Tier::Failures).expect("failures"),
            T0 + 5 * H + 31 * M
        );
        assert_eq!(store.record_count().expect("count"), 500);
        let last = records.last().expect("a record");
        assert_eq!(
            store.latest_record("a").expect("latest"),
            Some(serde_json::to_value(last).expect("json")),
            "an older row's full record is read as it was stored"
        );
        let mode: i64 = store
            .db
            .query_row("PRAGMA auto_vacuum", &[], |r| r.get(0))
            .expect("mode");
        assert_eq!(
            mode,
            super::super::prune::INCREMENTAL,
            "switched as it opened"
        );
        store
            .insert_record(&record(T0 + 2 * D, Verdict::Fail))
            .expect("insert");
        assert_eq!(
            store.latest_record("a").expect("latest"),
            Some(serde_json::to_value(record(T0 + 2 * D, Verdict::Fail)).expect("json")),
            "a new row's compact record is rebuilt whole"
        );
    }

    #[test]
    fn a_new_store_is_complete_from_the_epoch_and_instants_never_move_back() {
        crate::store::for_each_backend(|store| {
            assert_eq!(store.held().expect("held"), Held::default());
            advance(&store.db, Tier::Raw, 5 * D).expect("advance");
            advance(&store.db, Tier::Raw, 4 * D).expect("advance");
            assert_eq!(store.complete_from(Tier::Raw).expect("raw"), 5 * D);
        });
    }
}
