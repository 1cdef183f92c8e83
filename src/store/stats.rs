//! What the store holds, tier by tier (adapter): raw runs and rollup rows per level with the oldest of each,
//! the newest run, the locations runs came from, and the size on disk. Read-only: `store stats` reads it while `run` writes.

use super::db::{Dialect, args};
use super::{Store, StoreResult, rollups::code};
use crate::history::Level;
use serde::Serialize;
use std::path::Path;

/// The figures of `store stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreStats {
    /// The store file, as given.
    pub store: String,
    /// The main file and its write-ahead log (`STORE-wal`), in bytes; a missing file counts 0.
    pub file_bytes: u64,
    pub wal_bytes: u64,
    pub runs: u64,
    pub oldest_run_ms: Option<u64>,
    pub newest_run_ms: Option<u64>,
    /// Minute, hour and day rollups, in that order.
    pub rollups: Vec<TierStats>,
    /// The locations the day rows hold runs from, by name (`""`: runs from before locations were kept);
    /// shown when more than one.
    #[serde(skip_serializing_if = "one_at_most")]
    pub locations: Vec<String>,
}

fn one_at_most(locations: &[String]) -> bool {
    locations.len() <= 1
}

/// The rollup rows of one level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierStats {
    pub level: &'static str,
    pub rows: u64,
    /// The start of the oldest row's bucket.
    pub oldest_ms: Option<u64>,
}

impl Store {
    /// The store's figures (a scan of the rollup rows, two index reads of the runs and their count).
    pub fn stats(&self) -> StoreResult<StoreStats> {
        let (runs, oldest, newest): (i64, Option<i64>, Option<i64>) = self.db.query_row(
            "SELECT COUNT(*), MIN(scheduled_at_ms), MAX(scheduled_at_ms) FROM records",
            &[],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let rollups = Level::ALL
            .into_iter()
            .map(|level| {
                let (rows, oldest): (i64, Option<i64>) = self.db.query_row(
                    "SELECT COUNT(*), MIN(start_ms) FROM rollups WHERE level = ?1",
                    args![code(level)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                Ok(TierStats {
                    level: level.as_str(),
                    rows: rows as u64,
                    oldest_ms: oldest.map(|ms| ms as u64),
                })
            })
            .collect::<StoreResult<_>>()?;
        let size = |suffix: &str| {
            let mut name = self.path.clone();
            name.push_str(suffix);
            std::fs::metadata(Path::new(&name)).map_or(0, |m| m.len())
        };
        // PostgreSQL: the database's size on the server (its write-ahead log is the server's, not counted).
        let (file_bytes, wal_bytes) = match self.db.dialect() {
            Dialect::Sqlite => (size(""), size("-wal")),
            Dialect::Postgres => (
                self.db.query_row(
                    "SELECT CAST(pg_database_size(current_database()) AS BIGINT)",
                    &[],
                    |r| r.get(0),
                )?,
                0,
            ),
        };
        let locations = self.db.query_map(
            "SELECT DISTINCT location FROM rollups WHERE level = ?1 ORDER BY location",
            args![code(Level::Day)],
            |r| r.get(0),
        )?;
        Ok(StoreStats {
            locations,
            store: self.path.clone(),
            file_bytes,
            wal_bytes,
            runs: runs as u64,
            oldest_run_ms: oldest.map(|ms| ms as u64),
            newest_run_ms: newest.map(|ms| ms as u64),
            rollups,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Verdict;
    use crate::store::export::tests::record;

    #[test]
    fn the_figures_of_each_tier() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("oewsprobe.sqlite");
        let store = Store::open(&path).expect("open");
        let empty = store.stats().expect("stats");
        assert_eq!(
            (empty.runs, empty.oldest_run_ms, empty.newest_run_ms),
            (0, None, None)
        );
        assert!(
            empty
                .rollups
                .iter()
                .all(|t| t.rows == 0 && t.oldest_ms.is_none())
        );

        const DAY: u64 = 86_400_000;
        let runs = [
            record("a", 20_000 * DAY + 61_000, Verdict::Pass),
            record("a", 20_000 * DAY + 62_000, Verdict::Fail),
            record("b", 20_001 * DAY + 3_600_500, Verdict::Pass),
        ];
        store.insert_records(&runs).expect("insert");
        let stats = store.stats().expect("stats");
        let tier = |level: &'static str, rows, oldest_ms| TierStats {
            level,
            rows,
            oldest_ms: Some(oldest_ms),
        };
        assert_eq!(
            (stats.runs, stats.oldest_run_ms, stats.newest_run_ms),
            (
                3,
                Some(20_000 * DAY + 61_000),
                Some(20_001 * DAY + 3_600_500)
            )
        );
        assert_eq!(
            stats.rollups,
            [
                tier("minute", 2, 20_000 * DAY + 60_000),
                tier("hour", 2, 20_000 * DAY),
                tier("day", 2, 20_000 * DAY),
            ]
        );
        assert_eq!(stats.store, path.display().to_string());
        let on_disk = |suffix: &str| {
            std::fs::metadata(format!("{}{suffix}", path.display())).map_or(0, |m| m.len())
        };
        assert_eq!(
            (stats.file_bytes, stats.wal_bytes),
            (on_disk(""), on_disk("-wal"))
        );
        assert!(
            stats.file_bytes > 0 && stats.wal_bytes > 0,
            "WAL: both files"
        );
    }
}
