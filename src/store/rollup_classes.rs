//! The failure-class counts beside the rollup rows (`rollup_classes`, schema 8): per level, probe, bucket,
//! location (schema 9) and class, how many runs failed or were inconclusive for it. Written with the runs,
//! rebuilt with the rollups (by SQLite, from the raw runs), pruned with them, and summed per bar for the
//! status page.

use super::db::{Db, args};
use super::history::{bind, placeholders};
use super::{Store, StoreResult};
use crate::history::{ClassCounts, ClassedRun, Level, roll_up_classes};
use crate::probe::{FailureClass, ProbeRecord};
use crate::slo::Span;
use std::collections::BTreeMap;

/// Adds the classes of `records` to their buckets' counts, inside the caller's transaction.
pub(super) fn add(db: &Db, records: &[&ProbeRecord]) -> StoreResult<()> {
    for (location, records) in super::rollups::by_location(records) {
        let runs = records.iter().map(|r| {
            (
                r.probe.as_str(),
                ClassedRun {
                    at_ms: r.scheduled_at_ms,
                    verdict: r.verdict,
                    class: r.class,
                },
            )
        });
        for ((level, probe, start, class), runs) in roll_up_classes(runs) {
            db.execute(
                "INSERT INTO rollup_classes (level, probe, start_ms, location, class, runs)
                 VALUES (?1, ?2, ?3, ?6, ?4, ?5)
                 ON CONFLICT (level, probe, start_ms, location, class)
                 DO UPDATE SET runs = rollup_classes.runs + excluded.runs",
                args![
                    super::rollups::code(level),
                    probe,
                    start as i64,
                    class.as_str(),
                    runs as i64,
                    location
                ],
            )?;
        }
    }
    Ok(())
}

/// Deletes every count of a bucket starting at or after `from_ms` and counts them again from the raw runs
/// since then (one grouped read per level), inside the caller's transaction; as the rollups' rebuild does.
pub(super) fn rebuild(db: &Db, from_ms: i64) -> StoreResult<()> {
    db.execute(
        "DELETE FROM rollup_classes WHERE start_ms >= ?1",
        args![from_ms],
    )?;
    for level in Level::ALL {
        db.execute(
            "INSERT INTO rollup_classes (level, probe, start_ms, location, class, runs)
             SELECT CAST(?1 AS BIGINT), probe, scheduled_at_ms - scheduled_at_ms % ?2, location, class,
                    COUNT(*)
             FROM records WHERE scheduled_at_ms >= ?3 AND class IS NOT NULL AND verdict <> 'pass'
             GROUP BY probe, scheduled_at_ms - scheduled_at_ms % ?2, location, class
             HAVING scheduled_at_ms - scheduled_at_ms % ?2 >= ?3",
            args![super::rollups::code(level), level.millis() as i64, from_ms],
        )?;
    }
    Ok(())
}

/// Deletes `probe`'s counts at `level` of buckets starting before `cut_ms` (as its rollup rows are pruned).
pub(super) fn prune(db: &Db, level: Level, probe: &str, cut_ms: i64) -> StoreResult<()> {
    db.execute(
        "DELETE FROM rollup_classes WHERE level = ?1 AND probe = ?2 AND start_ms < ?3",
        args![super::rollups::code(level), probe, cut_ms],
    )?;
    Ok(())
}

impl Store {
    /// Per probe, the class counts of each of `bars` (parallel to them; as [`Store::bar_counts`] takes
    /// them), from the buckets of each bar's cover and the raw runs at its edges.
    pub fn bar_classes(
        &self,
        probes: &[String],
        bars: &[Span],
    ) -> StoreResult<BTreeMap<String, Vec<ClassCounts>>> {
        let mut out: BTreeMap<String, Vec<ClassCounts>> = probes
            .iter()
            .map(|p| (p.clone(), vec![ClassCounts::new(); bars.len()]))
            .collect();
        let Some(plan) = super::bars::BarPlan::of(bars, self.held()?, probes) else {
            return Ok(out);
        };
        let mut count = |probe: String, bar: usize, class: String, runs: i64| {
            if let (Some(counts), Some(class)) = (out.get_mut(&probe), FailureClass::parse(&class))
            {
                *counts[bar].entry(class).or_insert(0) += runs.max(0) as u64;
            }
        };
        for &(level, from, to) in &plan.ranges {
            let sql = format!(
                "SELECT probe, (start_ms - {origin}) / {width}, class, CAST(SUM(runs) AS BIGINT) FROM rollup_classes
                 WHERE level = {level} AND probe IN ({probes}) AND start_ms BETWEEN ? AND ?
                 GROUP BY 1, 2, 3",
                origin = plan.origin_ms,
                width = plan.width_ms,
                level = super::rollups::code(level),
                probes = placeholders(probes.len()),
            );
            let rows = self.db.query_map(&sql, &bind(probes, from, to), |r| {
                Ok((r.get(0)?, r.get::<i64>(1)?, r.get(2)?, r.get(3)?))
            })?;
            for (probe, index, class, runs) in rows {
                count(probe, plan.bar_index(index), class, runs);
            }
        }
        for &edge in &plan.raw {
            let sql = format!(
                "SELECT probe, scheduled_at_ms, class FROM records WHERE probe IN ({})
                 AND scheduled_at_ms BETWEEN ? AND ? AND class IS NOT NULL AND verdict <> 'pass'",
                placeholders(probes.len())
            );
            let rows = self
                .db
                .query_map(&sql, &bind(probes, edge.from_ms, edge.to_ms), |r| {
                    Ok((r.get(0)?, r.get::<i64>(1)?, r.get(2)?))
                })?;
            for (probe, at_ms, class) in rows {
                count(probe, plan.bar_of(at_ms.max(0) as u64), class, 1);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
#[path = "rollup_classes_tests.rs"]
mod tests;
