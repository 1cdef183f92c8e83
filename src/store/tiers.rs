//! From when each tier of history is complete (`tiers`): raw runs of every verdict, failures, minute, hour
//! and day rows. Pruning moves a tier's instant forward in the transaction of its first batch, before any of
//! its rows go, so a reader never counts on a tier where rows are missing; a store that had no such table
//! (schema 4) gets its instants from the oldest data it holds, rounded up past a bucket that may be partial.

use super::{Store, StoreResult};
use crate::history::{Held, Level};
use rusqlite::{Connection, OptionalExtension, params};

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
        let at = |tier| complete_from(&self.conn, tier);
        Ok(Held {
            raw_from_ms: at(Tier::Raw)?,
            minute_from_ms: at(Tier::Rollup(Level::Minute))?,
            hour_from_ms: at(Tier::Rollup(Level::Hour))?,
            day_from_ms: at(Tier::Rollup(Level::Day))?,
        })
    }

    /// From when `tier` is complete.
    pub fn complete_from(&self, tier: Tier) -> StoreResult<u64> {
        complete_from(&self.conn, tier)
    }
}

pub(super) fn complete_from(conn: &Connection, tier: Tier) -> StoreResult<u64> {
    let ms: Option<i64> = conn
        .prepare_cached("SELECT complete_from_ms FROM tiers WHERE tier = ?1")?
        .query_row([tier.as_str()], |r| r.get(0))
        .optional()?;
    Ok(ms.map_or(0, |ms| ms as u64))
}

/// Moves `tier`'s instant forward to `ms` (never back), inside the caller's transaction.
pub(super) fn advance(conn: &Connection, tier: Tier, ms: u64) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO tiers (tier, complete_from_ms) VALUES (?1, ?2)
         ON CONFLICT (tier) DO UPDATE SET complete_from_ms = MAX(complete_from_ms, excluded.complete_from_ms)",
    )?
    .execute(params![tier.as_str(), ms as i64])?;
    Ok(())
}

/// The instants of a store that kept no record of them (schema 4), from the data it holds: raw runs (and
/// failures) from the minute after the oldest run's (runs before it in its minute may have been pruned), each
/// level from the bucket after its oldest row. A store without data is complete from the epoch.
pub(super) fn start(conn: &Connection) -> StoreResult<()> {
    let oldest = |sql: &str| -> StoreResult<Option<u64>> {
        let ms: Option<i64> = conn.query_row(sql, [], |r| r.get(0))?;
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
    advance(conn, Tier::Raw, raw)?;
    advance(conn, Tier::Failures, raw)?;
    for level in Level::ALL {
        let sql = format!(
            "SELECT MIN(start_ms) FROM rollups WHERE level = {}",
            super::rollups::code(level)
        );
        advance(conn, Tier::Rollup(level), after(oldest(&sql)?, level))?;
    }
    Ok(())
}
