//! The counts of each bar of a strip (the status page's uptime strips): consecutive spans of one width, for
//! many probes at once, summed by SQLite over each level's rows in one grouped read per run of rows — not one
//! window read per bar. Each bar is counted from its [`cover`] (so pruned tiers answer as for any window);
//! latency distributions are not read.

use super::history::{bind, placeholders};
use super::{Store, StoreResult};
use crate::history::{Level, Rollup, cover};
use crate::slo::Span;
use rusqlite::params_from_iter;
use std::collections::BTreeMap;

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
        let (Some(first), false) = (bars.first(), probes.is_empty()) else {
            return Ok(out);
        };
        let width = first.to_ms - first.from_ms + 1;
        let bar_of = |ms: u64| {
            usize::try_from(ms.saturating_sub(first.from_ms) / width.max(1))
                .map_or(bars.len() - 1, |i| i.min(bars.len() - 1))
        };
        let held = self.held()?;
        // Per level, the bucket ranges of every bar's cover, joined where they touch.
        let mut ranges: BTreeMap<Level, Vec<(u64, u64)>> = BTreeMap::new();
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
            for edge in c.raw {
                for (probe, run) in self.runs_in(probes, edge)? {
                    if let Some(counts) = out.get_mut(&probe) {
                        counts[bar_of(run.at_ms)].add(&run);
                    }
                }
            }
        }
        for (level, list) in ranges {
            for (from, to) in list {
                let sql = format!(
                    "SELECT probe, (start_ms - {origin}) / {width}, SUM(pass), SUM(fail), SUM(inconclusive)
                     FROM rollups WHERE level = {level} AND probe IN ({probes}) AND start_ms BETWEEN ? AND ?
                     GROUP BY 1, 2",
                    origin = first.from_ms,
                    level = super::rollups::code(level),
                    probes = placeholders(probes.len()),
                );
                let mut stmt = self.conn.prepare_cached(&sql)?;
                let rows = stmt.query_map(params_from_iter(bind(probes, from, to)), |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        [r.get::<_, i64>(2)?, r.get(3)?, r.get(4)?],
                    ))
                })?;
                for row in rows {
                    let (probe, index, [pass, fail, inconclusive]) = row?;
                    let index = usize::try_from(index).map_or(0, |i| i.min(bars.len() - 1));
                    if let Some(counts) = out.get_mut(&probe) {
                        let bar = &mut counts[index];
                        bar.pass += pass.max(0) as u64;
                        bar.fail += fail.max(0) as u64;
                        bar.inconclusive += inconclusive.max(0) as u64;
                    }
                }
            }
        }
        Ok(out)
    }
}
