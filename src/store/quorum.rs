//! The location quorum's reads: an objective's window cut into the finest buckets the store holds (minute
//! rows, hour and day rows beyond them, raw runs at the edges), each bucket of a probe that has a failed run
//! read per location, and judged by the pure core ([`crate::fleet::buckets`]).

use super::history::{bind, placeholders};
use super::{Store, StoreResult};
use crate::fleet::{Bucket, Quorum, location_problem_runs};
use crate::history::{Level, fine_cover};
use crate::probe::Verdict;
use crate::slo::Span;
use std::collections::{BTreeMap, BTreeSet};

impl Store {
    /// How many failed runs of `probes` in `span` (inclusive) were location problems under `quorum`: in a
    /// bucket (a probe's minute where minutes are held, its hour or day beyond) whose failing locations lack
    /// the quorum of those that reported there, or made from a location `left_out` (see
    /// [`location_problem_runs`]). Only buckets with a failed run are read per location.
    pub fn location_problems(
        &self,
        probes: &[String],
        span: Span,
        quorum: Quorum,
        left_out: &BTreeSet<String>,
    ) -> StoreResult<u64> {
        if probes.is_empty() || !self.judged_by_location(probes, span, left_out)? {
            return Ok(0);
        }
        let cover = fine_cover(span, self.held()?);
        let mut buckets: BTreeMap<(String, u64), Bucket> = BTreeMap::new();
        for &(level, first, last) in &cover.buckets {
            // The rows of every location of the buckets where some location failed.
            // The failing buckets from their index (`rollup_failing`), then each one's rows by the key.
            let sql = format!(
                "SELECT r.probe, r.start_ms, r.location, r.pass, r.fail
                 FROM (SELECT DISTINCT probe, start_ms FROM rollups
                       WHERE level = {code} AND probe IN ({list}) AND start_ms BETWEEN ? AND ? AND fail > 0) f
                 JOIN rollups r ON r.level = {code} AND r.probe = f.probe AND r.start_ms = f.start_ms",
                code = super::rollups::code(level),
                list = placeholders(probes.len()),
            );
            let params = bind(probes, first, last);
            let rows = self.db.query_map(&sql, &params, |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<i64>(1)?,
                    r.get::<String>(2)?,
                    r.get::<i64>(3)?,
                    r.get::<i64>(4)?,
                ))
            })?;
            for (probe, start, location, pass, fail) in rows {
                let tally = buckets
                    .entry((probe, start.max(0) as u64))
                    .or_default()
                    .entry(location)
                    .or_default();
                tally.pass += pass.max(0) as u64;
                tally.fail += fail.max(0) as u64;
            }
        }
        // The edges: raw runs, by the minute.
        for edge in &cover.raw {
            for (probe, location, run) in self.runs_in(probes, *edge)? {
                let tally = buckets
                    .entry((probe, Level::Minute.start_of(run.at_ms)))
                    .or_default()
                    .entry(location)
                    .or_default();
                match run.verdict {
                    Verdict::Pass => tally.pass += 1,
                    Verdict::Fail => tally.fail += 1,
                    Verdict::Inconclusive => {}
                }
            }
        }
        Ok(location_problem_runs(buckets.values(), quorum, left_out))
    }

    /// Whether `span` holds runs of `probes` from more than one location, or from one `left_out`: else every
    /// failing bucket has one location reporting, an outage, and nothing is read per bucket (one agent's
    /// store costs what it did before locations). From the day rows (a few per probe), which every run adds to.
    fn judged_by_location(
        &self,
        probes: &[String],
        span: Span,
        left_out: &BTreeSet<String>,
    ) -> StoreResult<bool> {
        let sql = format!(
            "SELECT DISTINCT location FROM rollups WHERE level = {} AND probe IN ({}) AND start_ms BETWEEN ? AND ?
             LIMIT 2",
            super::rollups::code(Level::Day),
            placeholders(probes.len()),
        );
        let params = bind(probes, Level::Day.start_of(span.from_ms), span.to_ms);
        let locations: Vec<String> = self.db.query_map(&sql, &params, |r| r.get(0))?;
        Ok(match locations.as_slice() {
            [] => false,
            [one] => left_out.contains(one),
            _ => true,
        })
    }
}

#[cfg(test)]
#[path = "quorum_tests.rs"]
mod tests;
