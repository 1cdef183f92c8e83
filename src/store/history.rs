//! What happened in a window, read from the rollups: each probe's runs as one [`Rollup`] (the window's
//! [`cover`] rows merged, plus its raw runs at the edges), and an objective's counts per window. Rows read
//! depend on the window's length in buckets, not on its runs; the probes of a window are read together
//! (a few range reads of rollup rows and at most two of raw runs per window, whatever the number of probes).
//! Where tiers are pruned, the cover answers from what the store holds ([`Store::held`]).

use super::db::{Dialect, Param};
use super::{Store, StoreError, StoreResult};
use crate::history::{Level, Rollup, Run, SignedCover, cover, signed_cover, split_at_the_end};
use crate::slo::{Counts, Objective, Sli, Span};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Per probe, per location (`""`: runs from before locations were kept), a window's runs as one rollup.
pub type ByLocation = BTreeMap<String, BTreeMap<String, Rollup>>;

/// Counts summed per range of rows (`None`: raw runs), first and last bucket start (or instant).
type RangeSums = HashMap<(Option<Level>, u64, u64), Counts>;

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
        Ok(self.window_rollups_and_locations(probes, span, latency)?.0)
    }

    /// [`Store::window_rollups`], and beside it [`Store::window_rollups_by_location`]: one read for both.
    pub fn window_rollups_and_locations(
        &self,
        probes: &[String],
        span: Span,
        latency: bool,
    ) -> StoreResult<(BTreeMap<String, Rollup>, ByLocation)> {
        let mut tracked = self.latency_thresholds()?;
        let by_location = self.window_rollups_by_location(probes, span, latency)?;
        let across = probes
            .iter()
            .map(|p| {
                let mut window = Rollup::of(&[], &tracked.remove(p).unwrap_or_default());
                for row in by_location.get(p).into_iter().flat_map(BTreeMap::values) {
                    window.merge(row);
                }
                (p.clone(), window)
            })
            .collect();
        Ok((across, by_location))
    }

    /// [`Store::window_rollups`] per location: for each of `probes`, each location that ran it in `span`
    /// (by name; `""` for runs from before locations were kept) and its runs there as one rollup.
    pub fn window_rollups_by_location(
        &self,
        probes: &[String],
        span: Span,
        latency: bool,
    ) -> StoreResult<ByLocation> {
        let cover = cover(span, self.held()?);
        let tracked = self.latency_thresholds()?;
        let mut edge_runs: BTreeMap<(String, String), Vec<Run>> = BTreeMap::new();
        for edge in &cover.raw {
            for (probe, location, run) in self.runs_in(probes, *edge)? {
                edge_runs.entry((probe, location)).or_default().push(run);
            }
        }
        let thresholds = |probe: &str| tracked.get(probe).map_or(&[][..], Vec::as_slice);
        let mut out = ByLocation::new();
        for ((probe, location), runs) in edge_runs {
            let window = Rollup::of(&runs, thresholds(&probe));
            out.entry(probe).or_default().insert(location, window);
        }
        for &(level, first, last) in &cover.buckets {
            for (probe, location, row) in
                self.rollup_rows_of(probes, level, first, last, latency)?
            {
                let locations = out.entry(probe.clone()).or_default();
                locations
                    .entry(location)
                    .or_insert_with(|| Rollup::of(&[], thresholds(&probe)))
                    .merge(&row);
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
        self.objective_counts_leaving_out(objective, spans, &BTreeSet::new())
    }

    /// [`Store::objective_counts`] with the locations `left_out` of the quorum (the release watch's: those
    /// whose prober is unhealthy): their failed runs are location problems, and the others judge alone.
    pub fn objective_counts_leaving_out(
        &self,
        objective: &Objective,
        spans: &[Span],
        left_out: &BTreeSet<String>,
    ) -> StoreResult<Vec<Counts>> {
        self.atomically(|store| store.objective_counts_now(objective, spans, left_out))
    }

    fn objective_counts_now(
        &self,
        objective: &Objective,
        spans: &[Span],
        left_out: &BTreeSet<String>,
    ) -> StoreResult<Vec<Counts>> {
        let mut probes = objective.probes.clone();
        probes.sort();
        probes.dedup();
        if objective.sli == Sli::Availability {
            // Counts alone, summed by SQLite over each range of rows, each range once: the windows end
            // together, so their last day and hour are split off and shared; long edges are read as the
            // bigger row less the rest of it (`signed_cover`).
            // Where runs failed, the location quorum judges them (one location alone: no change).
            let held = self.held()?;
            let mut sums = RangeSums::new();
            return spans
                .iter()
                .map(|span| {
                    let counts = split_at_the_end(*span, held).into_iter().try_fold(
                        Counts::default(),
                        |total, part| {
                            let cover = signed_cover(part, held);
                            Ok::<_, StoreError>(
                                total + self.availability_counts(&probes, &cover, &mut sums)?,
                            )
                        },
                    )?;
                    Ok(match counts.bad {
                        0 => counts,
                        _ => counts.with_location_problems(self.location_problems(
                            &probes,
                            *span,
                            objective.quorum,
                            left_out,
                        )?),
                    })
                })
                .collect();
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

    /// The availability counts of `probes`' runs in `cover`: its rows' counts, less its complements', and
    /// its raw runs', each range summed by SQLite once (`sums` keeps the ranges already summed).
    fn availability_counts(
        &self,
        probes: &[String],
        cover: &SignedCover,
        sums: &mut RangeSums,
    ) -> StoreResult<Counts> {
        let rows = |ranges: &[(Level, u64, u64)], sums: &mut RangeSums| {
            ranges
                .iter()
                .try_fold(Counts::default(), |total, &(level, first, last)| {
                    Ok::<_, StoreError>(
                        total + self.range_counts(probes, Some(level), first, last, sums)?,
                    )
                })
        };
        let mut total = rows(&cover.plus, sums)?;
        for edge in &cover.raw {
            total = total + self.range_counts(probes, None, edge.from_ms, edge.to_ms, sums)?;
        }
        Ok(total.less(rows(&cover.minus, sums)?))
    }

    /// The availability counts of `probes`' rows at `level` (`None`: raw runs) from `first` to `last`
    /// (bucket starts, or instants), summed by SQLite, or from `sums` when summed already.
    fn range_counts(
        &self,
        probes: &[String],
        level: Option<Level>,
        first: u64,
        last: u64,
        sums: &mut RangeSums,
    ) -> StoreResult<Counts> {
        if let Some(counts) = sums.get(&(level, first, last)) {
            return Ok(*counts);
        }
        // No probe, no run (and SQLite finds no plan through the count indexes for `probe IN ()`).
        if probes.is_empty() {
            return Ok(Counts::default());
        }
        let sql = match level {
            Some(level) => format!(
                "SELECT CAST(COALESCE(SUM(pass), 0) AS BIGINT), CAST(COALESCE(SUM(fail), 0) AS BIGINT),
                        CAST(COALESCE(SUM(inconclusive), 0) AS BIGINT)
                 FROM rollups {} WHERE level = {} AND probe IN ({}) AND start_ms BETWEEN ? AND ?",
                super::rollups::counts_index(self.db.dialect(), level),
                super::rollups::code(level),
                placeholders(probes.len())
            ),
            None => format!(
                "SELECT CAST(COALESCE(SUM(CASE WHEN verdict = 'pass' THEN 1 ELSE 0 END), 0) AS BIGINT),
                        CAST(COALESCE(SUM(CASE WHEN verdict = 'fail' THEN 1 ELSE 0 END), 0) AS BIGINT),
                        CAST(COALESCE(SUM(CASE WHEN verdict NOT IN ('pass', 'fail') THEN 1 ELSE 0 END), 0)
                             AS BIGINT)
                 FROM records WHERE probe IN ({}) AND scheduled_at_ms BETWEEN ? AND ?",
                placeholders(probes.len())
            ),
        };
        let (good, bad, inconclusive) =
            self.db.query_row(&sql, &bind(probes, first, last), |r| {
                Ok((r.get::<i64>(0)?, r.get::<i64>(1)?, r.get::<i64>(2)?))
            })?;
        let counts = Counts::new(good as u64, bad as u64, inconclusive as u64);
        sums.insert((level, first, last), counts);
        Ok(counts)
    }

    /// The runs of `probes` scheduled in `span` (inclusive), as rollups count them, with their probe and
    /// location.
    pub(super) fn runs_in(
        &self,
        probes: &[String],
        span: Span,
    ) -> StoreResult<Vec<(String, String, Run)>> {
        let sql = format!(
            "SELECT probe, location, scheduled_at_ms, verdict, latency_us FROM records
             WHERE probe IN ({}) AND scheduled_at_ms BETWEEN ? AND ?",
            placeholders(probes.len())
        );
        self.db
            .query_map(&sql, &bind(probes, span.from_ms, span.to_ms), |r| {
                let verdict: String = r.get(3)?;
                Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    Run {
                        at_ms: r.get::<i64>(2)? as u64,
                        verdict: crate::probe::Verdict::parse(&verdict)
                            .unwrap_or(crate::probe::Verdict::Inconclusive),
                        latency_us: r.get::<i64>(4)? as u64,
                    },
                ))
            })
    }

    /// The rows of `probes` at `level` whose buckets start in `[first_ms, last_ms]`, with their probe and
    /// location.
    fn rollup_rows_of(
        &self,
        probes: &[String],
        level: crate::history::Level,
        first_ms: u64,
        last_ms: u64,
        latency: bool,
    ) -> StoreResult<Vec<(String, String, Rollup)>> {
        let sql = format!(
            "SELECT probe, pass, fail, inconclusive, {}, slow, location FROM rollups
             WHERE level = {} AND probe IN ({}) AND start_ms BETWEEN ? AND ?",
            match (latency, self.db.dialect()) {
                (true, _) => "latency",
                (false, Dialect::Sqlite) => "x''",
                (false, Dialect::Postgres) => "'\\x'::bytea",
            },
            super::rollups::code(level),
            placeholders(probes.len())
        );
        self.db
            .query_map(&sql, &bind(probes, first_ms, last_ms), |r| {
                let counts = (r.get(1)?, r.get(2)?, r.get(3)?);
                let row =
                    super::rollups::decode(counts, &r.get::<Vec<u8>>(4)?, &r.get::<Vec<u8>>(5)?)?;
                Ok((r.get::<String>(0)?, r.get::<String>(6)?, row))
            })
    }
}

pub(super) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// The probes, then the two instants (as SQLite's signed integers, saturating).
pub(super) fn bind(probes: &[String], from_ms: u64, to_ms: u64) -> Vec<Param> {
    let instant = |ms: u64| Param::Int(i64::try_from(ms).unwrap_or(i64::MAX));
    probes
        .iter()
        .map(|p| Param::Text(p.clone()))
        .chain([instant(from_ms), instant(to_ms)])
        .collect()
}
