//! The failure-class counts beside the rollup rows (`rollup_classes`, schema 8): per level, probe, bucket
//! and class, how many runs failed or were inconclusive for it. Written with the runs, rebuilt with the
//! rollups (by SQLite, from the raw runs), pruned with them, and summed per bar for the status page.

use super::history::{bind, placeholders};
use super::{Store, StoreResult};
use crate::history::{ClassCounts, ClassedRun, Level, roll_up_classes};
use crate::probe::{FailureClass, ProbeRecord};
use crate::slo::Span;
use rusqlite::{Connection, params, params_from_iter};
use std::collections::BTreeMap;

/// Adds the classes of `records` to their buckets' counts, inside the caller's transaction.
pub(super) fn add(conn: &Connection, records: &[&ProbeRecord]) -> StoreResult<()> {
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
    let mut upsert = conn.prepare_cached(
        "INSERT INTO rollup_classes (level, probe, start_ms, class, runs) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (level, probe, start_ms, class) DO UPDATE SET runs = runs + excluded.runs",
    )?;
    for ((level, probe, start, class), runs) in roll_up_classes(runs) {
        upsert.execute(params![
            super::rollups::code(level),
            probe,
            start as i64,
            class.as_str(),
            runs as i64
        ])?;
    }
    Ok(())
}

/// Deletes every count of a bucket starting at or after `from_ms` and counts them again from the raw runs
/// since then (one grouped read per level), inside the caller's transaction; as the rollups' rebuild does.
pub(super) fn rebuild(conn: &Connection, from_ms: i64) -> StoreResult<()> {
    conn.execute("DELETE FROM rollup_classes WHERE start_ms >= ?1", [from_ms])?;
    for level in Level::ALL {
        conn.execute(
            "INSERT INTO rollup_classes (level, probe, start_ms, class, runs)
             SELECT ?1, probe, scheduled_at_ms - scheduled_at_ms % ?2 AS start, class, COUNT(*) FROM records
             WHERE scheduled_at_ms >= ?3 AND class IS NOT NULL AND verdict <> 'pass'
             GROUP BY probe, start, class HAVING start >= ?3",
            params![super::rollups::code(level), level.millis() as i64, from_ms],
        )?;
    }
    Ok(())
}

/// Deletes `probe`'s counts at `level` of buckets starting before `cut_ms` (as its rollup rows are pruned).
pub(super) fn prune(conn: &Connection, level: Level, probe: &str, cut_ms: i64) -> StoreResult<()> {
    conn.prepare_cached(
        "DELETE FROM rollup_classes WHERE level = ?1 AND probe = ?2 AND start_ms < ?3",
    )?
    .execute(params![super::rollups::code(level), probe, cut_ms])?;
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
                "SELECT probe, (start_ms - {origin}) / {width}, class, SUM(runs) FROM rollup_classes
                 WHERE level = {level} AND probe IN ({probes}) AND start_ms BETWEEN ? AND ?
                 GROUP BY 1, 2, 3",
                origin = plan.origin_ms,
                width = plan.width_ms,
                level = super::rollups::code(level),
                probes = placeholders(probes.len()),
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params_from_iter(bind(probes, from, to)), |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)?, r.get(2)?, r.get(3)?))
            })?;
            for row in rows {
                let (probe, index, class, runs) = row?;
                count(probe, plan.bar_index(index), class, runs);
            }
        }
        for &edge in &plan.raw {
            let sql = format!(
                "SELECT probe, scheduled_at_ms, class FROM records WHERE probe IN ({})
                 AND scheduled_at_ms BETWEEN ? AND ? AND class IS NOT NULL AND verdict <> 'pass'",
                placeholders(probes.len())
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                params_from_iter(bind(probes, edge.from_ms, edge.to_ms)),
                |r| Ok((r.get(0)?, r.get::<_, i64>(1)?, r.get(2)?)),
            )?;
            for row in rows {
                let (probe, at_ms, class) = row?;
                count(probe, plan.bar_of(at_ms.max(0) as u64), class, 1);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
#[path = "rollup_classes_tests.rs"]
mod tests;
