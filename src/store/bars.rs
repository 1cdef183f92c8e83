//! The counts of each bar of a strip (the status page's uptime strips): consecutive spans of one width, for
//! many probes at once, summed by SQLite over each level's rows in one grouped read per run of rows — not one
//! window read per bar. Each bar is counted from its [`cover`] (so pruned tiers answer as for any window);
//! latency distributions are not read. The plan of which rows and runs answer which bar is shared with the
//! bars' failure classes (`rollup_classes`).

use super::history::{bind, placeholders};
use super::{Store, StoreResult};
use crate::history::{Held, Level, Rollup, cover};
use crate::slo::Span;
use std::collections::BTreeMap;

/// Which rows and runs answer a strip's bars: per level, the bucket ranges of every bar's cover (joined
/// where they touch), and the raw spans at the bars' edges; a row's bar is its start's offset from the first
/// bar over the bars' width.
pub(super) struct BarPlan {
    pub origin_ms: u64,
    pub width_ms: u64,
    bars: usize,
    pub ranges: Vec<(Level, u64, u64)>,
    pub raw: Vec<Span>,
}

impl BarPlan {
    /// The plan for `bars` (consecutive spans of one width but the last) over the tiers as `held`; none when
    /// there are no bars or no probes.
    pub fn of(bars: &[Span], held: Held, probes: &[String]) -> Option<BarPlan> {
        let first = bars.first().filter(|_| !probes.is_empty())?;
        let mut ranges: BTreeMap<Level, Vec<(u64, u64)>> = BTreeMap::new();
        let mut raw = Vec::new();
        for bar in bars {
            let c = cover(*bar, held);
            for (level, from, to) in c.buckets {
                let list = ranges.entry(level).or_default();
                // (Where a pruned tier rounds two bars out to the same bucket, it is read once.)
                match list.last_mut() {
                    Some(last) if from <= last.1 + level.millis() => last.1 = last.1.max(to),
                    _ => list.push((from, to)),
                }
            }
            raw.extend(c.raw);
        }
        Some(BarPlan {
            origin_ms: first.from_ms,
            width_ms: (first.to_ms - first.from_ms + 1).max(1),
            bars: bars.len(),
            ranges: ranges
                .into_iter()
                .flat_map(|(level, list)| list.into_iter().map(move |(f, t)| (level, f, t)))
                .collect(),
            raw,
        })
    }

    /// The bar of a row whose offset over the width SQLite computed as `index` (clamped to the bars).
    pub fn bar_index(&self, index: i64) -> usize {
        usize::try_from(index).map_or(0, |i| i.min(self.bars - 1))
    }

    /// The bar holding the instant `ms`.
    pub fn bar_of(&self, ms: u64) -> usize {
        usize::try_from(ms.saturating_sub(self.origin_ms) / self.width_ms)
            .map_or(self.bars - 1, |i| i.min(self.bars - 1))
    }
}

impl Store {
    /// Per probe, the pass / fail / inconclusive counts of each of `bars` (parallel to them): consecutive
    /// spans of one width but the last (which may be shorter), oldest first.
    pub fn bar_counts(
        &self,
        probes: &[String],
        bars: &[Span],
    ) -> StoreResult<BTreeMap<String, Vec<Rollup>>> {
        let mut out: BTreeMap<String, Vec<Rollup>> = probes
            .iter()
            .map(|p| (p.clone(), vec![Rollup::default(); bars.len()]))
            .collect();
        let Some(plan) = BarPlan::of(bars, self.held()?, probes) else {
            return Ok(out);
        };
        for &edge in &plan.raw {
            for (probe, _, run) in self.runs_in(probes, edge)? {
                if let Some(counts) = out.get_mut(&probe) {
                    counts[plan.bar_of(run.at_ms)].add(&run);
                }
            }
        }
        for &(level, from, to) in &plan.ranges {
            let sql = format!(
                "SELECT probe, (start_ms - {origin}) / {width}, CAST(SUM(pass) AS BIGINT),
                        CAST(SUM(fail) AS BIGINT), CAST(SUM(inconclusive) AS BIGINT)
                 FROM rollups WHERE level = {level} AND probe IN ({probes}) AND start_ms BETWEEN ? AND ?
                 GROUP BY 1, 2",
                origin = plan.origin_ms,
                width = plan.width_ms,
                level = super::rollups::code(level),
                probes = placeholders(probes.len()),
            );
            let rows = self.db.query_map(&sql, &bind(probes, from, to), |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<i64>(1)?,
                    [r.get::<i64>(2)?, r.get(3)?, r.get(4)?],
                ))
            })?;
            for (probe, index, [pass, fail, inconclusive]) in rows {
                if let Some(counts) = out.get_mut(&probe) {
                    let bar = &mut counts[plan.bar_index(index)];
                    bar.pass += pass.max(0) as u64;
                    bar.fail += fail.max(0) as u64;
                    bar.inconclusive += inconclusive.max(0) as u64;
                }
            }
        }
        Ok(out)
    }
}
