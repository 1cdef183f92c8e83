//! What happened in a window, read from the rollups: each probe's runs as one [`Rollup`] (the window's
//! [`cover`] rows merged, plus its raw runs at the edges), and an objective's counts per window. Rows read
//! depend on the window's length in buckets, not on its runs; the probes of a window are read together
//! (a few range reads of rollup rows and at most two of raw runs per window, whatever the number of probes).
//! Where tiers are pruned, the cover answers from what the store holds ([`Store::held`]).

use super::{Store, StoreResult};
use crate::history::{Cover, Level, Rollup, Run, cover, merged, split_at_the_end};
use crate::slo::{Counts, Objective, Sli, Span};
use rusqlite::params_from_iter;
use rusqlite::types::Value;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

/// Counts per level and bucket start, summed over a set of probes.
type BucketSums = BTreeMap<(Level, u64), Counts>;

impl Store {
    /// `probe`'s runs in `span` (inclusive) as one rollup, tracking the thresholds every row it merges tracks.
    pub fn window_rollup(&self, probe: &str, span: Span) -> StoreResult<Rollup> {
        let mut all =
            self.atomically(|store| store.window_rollups(&[probe.to_string()], span, true))?;
        Ok(all.remove(probe).unwrap_or_default())
    }

    /// [`Store::window_rollup`] for each of `probes`, read together; without `latency`, the rows' latency
    /// distributions are not read (the rollups' histograms then hold only the edge runs).
    pub fn window_rollups(
        &self,
        probes: &[String],
        span: Span,
        latency: bool,
    ) -> StoreResult<BTreeMap<String, Rollup>> {
        let cover = cover(span, self.held()?);
        let mut tracked = self.latency_thresholds()?;
        let mut edge_runs: BTreeMap<&str, Vec<Run>> = BTreeMap::new();
        for edge in &cover.raw {
            for (probe, run) in self.runs_in(probes, *edge)? {
                if let Some(probe) = probes.iter().find(|p| **p == probe) {
                    edge_runs.entry(probe.as_str()).or_default().push(run);
                }
            }
        }
        let mut out: BTreeMap<String, Rollup> = probes
            .iter()
            .map(|p| {
                let runs = edge_runs.get(p.as_str()).map_or(&[][..], Vec::as_slice);
                let thresholds = tracked.remove(p).unwrap_or_default();
                (p.clone(), Rollup::of(runs, &thresholds))
            })
            .collect();
        for &(level, first, last) in &cover.buckets {
            for (probe, row) in self.rollup_rows_of(probes, level, first, last, latency)? {
                if let Some(window) = out.get_mut(&probe) {
                    window.merge(&row);
                }
            }
        }
        Ok(out)
    }

    /// The counts of `objective` in each of `spans` (parallel to them), from the rollups; a latency
    /// objective whose threshold the rollups of a probe do not track counts that probe's raw runs instead.
    /// All reads in one transaction: one snapshot, however the writer commits meanwhile. The raw runs of an
    /// untracked threshold are read only where runs of every verdict are held (see `probe_records_in`).
    pub fn objective_counts(
        &self,
        objective: &Objective,
        spans: &[Span],
    ) -> StoreResult<Vec<Counts>> {
        self.atomically(|store| store.objective_counts_now(objective, spans))
    }

    fn objective_counts_now(
        &self,
        objective: &Objective,
        spans: &[Span],
    ) -> StoreResult<Vec<Counts>> {
        let mut probes = objective.probes.clone();
        probes.sort();
        probes.dedup();
        if objective.sli == Sli::Availability {
            // Counts alone, summed by SQLite: the windows end together, so their last day and hour are split
            // off, and the rows of all their covers are read once, in as few range reads as they allow.
            let held = self.held()?;
            let covers: Vec<Vec<Cover>> = spans
                .iter()
                .map(|span| {
                    split_at_the_end(*span, held)
                        .into_iter()
                        .map(|part| cover(part, held))
                        .collect()
                })
                .collect();
            return self.availability_counts(&probes, &covers);
        }
        let mut out = Vec::with_capacity(spans.len());
        for span in spans {
            let mut counts = Counts::default();
            for (probe, window) in self.window_rollups(&probes, *span, false)? {
                counts = counts
                    + match window.counts(objective.sli) {
                        Some(c) => c,
                        None => self
                            .probe_records_in(&probe, *span)?
                            .iter()
                            .map(|r| {
                                let mut c = Counts::default();
                                c.add(objective.sli.classify(&r.observation()));
                                c
                            })
                            .sum(),
                    };
            }
            out.push(counts);
        }
        Ok(out)
    }

    /// The availability counts of `probes`' runs in each window (parallel to `covers`: the covers of its
    /// parts): the rows of every cover summed per bucket over the probes by SQLite, each row read once (ranges
    /// that overlap or touch are [`merged`]), then added up per window; the raw runs at the edges summed per
    /// edge, each edge once.
    fn availability_counts(
        &self,
        probes: &[String],
        covers: &[Vec<Cover>],
    ) -> StoreResult<Vec<Counts>> {
        let all = || covers.iter().flatten();
        let mut buckets = BucketSums::new();
        for (level, first, last) in merged(all().flat_map(|c| c.buckets.iter().copied())) {
            self.bucket_sums(probes, level, first, last, &mut buckets)?;
        }
        let mut edges = HashMap::new();
        for edge in all().flat_map(|c| c.raw.iter()) {
            if let Entry::Vacant(slot) = edges.entry((edge.from_ms, edge.to_ms)) {
                slot.insert(self.raw_counts(probes, *edge)?);
            }
        }
        Ok(covers
            .iter()
            .map(|parts| {
                parts
                    .iter()
                    .flat_map(|cover| {
                        let rows = cover.buckets.iter().flat_map(|&(level, first, last)| {
                            buckets
                                .range((level, first)..=(level, last))
                                .map(|(_, c)| *c)
                        });
                        let runs = cover.raw.iter().map(|e| edges[&(e.from_ms, e.to_ms)]);
                        rows.chain(runs)
                    })
                    .sum()
            })
            .collect())
    }

    /// Adds to `sums` the counts of `probes`' rows at `level` whose buckets start in `[first, last]`, summed
    /// over the probes per bucket.
    fn bucket_sums(
        &self,
        probes: &[String],
        level: Level,
        first: u64,
        last: u64,
        sums: &mut BucketSums,
    ) -> StoreResult<()> {
        let sql = format!(
            "SELECT start_ms, SUM(pass), SUM(fail), SUM(inconclusive) FROM rollups
             WHERE level = {} AND probe IN ({}) AND start_ms BETWEEN ? AND ? GROUP BY start_ms",
            super::rollups::code(level),
            placeholders(probes.len())
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(bind(probes, first, last)))?;
        while let Some(r) = rows.next()? {
            let count = |i| r.get::<_, i64>(i).map(|n| n as u64);
            sums.insert(
                (level, r.get::<_, i64>(0)? as u64),
                Counts::new(count(1)?, count(2)?, count(3)?),
            );
        }
        Ok(())
    }

    /// The availability counts of `probes`' raw runs scheduled in `span` (inclusive).
    fn raw_counts(&self, probes: &[String], span: Span) -> StoreResult<Counts> {
        let sql = format!(
            "SELECT COALESCE(SUM(verdict = 'pass'), 0), COALESCE(SUM(verdict = 'fail'), 0),
                    COALESCE(SUM(verdict NOT IN ('pass', 'fail')), 0)
             FROM records WHERE probe IN ({}) AND scheduled_at_ms BETWEEN ? AND ?",
            placeholders(probes.len())
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let params = params_from_iter(bind(probes, span.from_ms, span.to_ms));
        let (good, bad, inconclusive) = stmt.query_row(params, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        Ok(Counts::new(good as u64, bad as u64, inconclusive as u64))
    }

    /// The runs of `probes` scheduled in `span` (inclusive), as rollups count them.
    fn runs_in(&self, probes: &[String], span: Span) -> StoreResult<Vec<(String, Run)>> {
        let sql = format!(
            "SELECT probe, scheduled_at_ms, verdict, latency_us FROM records
             WHERE probe IN ({}) AND scheduled_at_ms BETWEEN ? AND ?",
            placeholders(probes.len())
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params_from_iter(bind(probes, span.from_ms, span.to_ms)),
            |r| {
                let verdict: String = r.get(2)?;
                Ok((
                    r.get::<_, String>(0)?,
                    Run {
                        at_ms: r.get::<_, i64>(1)? as u64,
                        verdict: crate::probe::Verdict::parse(&verdict)
                            .unwrap_or(crate::probe::Verdict::Inconclusive),
                        latency_us: r.get::<_, i64>(3)? as u64,
                    },
                ))
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The rows of `probes` at `level` whose buckets start in `[first_ms, last_ms]`.
    fn rollup_rows_of(
        &self,
        probes: &[String],
        level: crate::history::Level,
        first_ms: u64,
        last_ms: u64,
        latency: bool,
    ) -> StoreResult<Vec<(String, Rollup)>> {
        let sql = format!(
            "SELECT probe, pass, fail, inconclusive, {}, slow FROM rollups
             WHERE level = {} AND probe IN ({}) AND start_ms BETWEEN ? AND ?",
            if latency { "latency" } else { "x''" },
            super::rollups::code(level),
            placeholders(probes.len())
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(bind(probes, first_ms, last_ms)), |r| {
            Ok((
                r.get::<_, String>(0)?,
                (r.get(1)?, r.get(2)?, r.get(3)?),
                r.get::<_, Vec<u8>>(4)?,
                r.get::<_, Vec<u8>>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (probe, counts, latency, slow) = row?;
            Ok((probe, super::rollups::decode(counts, &latency, &slow)?))
        })
        .collect()
    }
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// The probes, then the two instants (as SQLite's signed integers, saturating).
fn bind(probes: &[String], from_ms: u64, to_ms: u64) -> Vec<Value> {
    let instant = |ms: u64| Value::Integer(i64::try_from(ms).unwrap_or(i64::MAX));
    probes
        .iter()
        .map(|p| Value::Text(p.clone()))
        .chain([instant(from_ms), instant(to_ms)])
        .collect()
}
