//! What the status page shows, read in one snapshot: per probe its rollups per bar of the window and over
//! 24 h / 7 d / 30 d, its latest runs and failures; each objective evaluated with its burn-down over the
//! period; the release with its decisions and rollback, and each probe before and after it; the bursts; and
//! where more than one location ran a probe in the last 24 h, its latest run and uptime from each.
//! All from the rollups (a bar, an uptime figure and a burn-down point cost rows, not runs), but the latest
//! runs themselves (a bounded number, newest first).

use super::status::alert_status;
use crate::alert::Silence;
use crate::history::{ClassCounts, Level, Rollup};
use crate::probe::Verdict;
use crate::release::WatchSettings;
use crate::report::{AlertStatus, BudgetStatus};
use crate::slo::{Counts, Evaluation, Objective, Span, TierState};
use crate::store::{ByLocation, Store};
use crate::store::{Release, RollbackRecord, StoreResult, StoredDecision, StoredRecord};
use serde_json::Value as ProbeRecordJson;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// How many whole bars a window is cut into, at most (one more, the current one, ends now).
pub const MAX_BARS: usize = 48;
/// The runs and failures read per probe.
pub const RECENT_RUNS: u32 = 10;
/// The points of a burn-down chart.
pub const BURN_DOWN_POINTS: usize = 30;
/// The uptime figures every row shows.
pub const UPTIME_SPANS: [(&str, Duration); 3] = [
    ("24h", Duration::from_secs(86_400)),
    ("7d", Duration::from_secs(7 * 86_400)),
    ("30d", Duration::from_secs(30 * 86_400)),
];

/// What to read.
#[derive(Debug, Clone)]
pub struct PageQuery<'a> {
    pub probes: &'a [String],
    /// The burst records' names (`NAME-burst`).
    pub bursts: &'a [String],
    pub objectives: &'a [Objective],
    pub watch: &'a WatchSettings,
    /// `rollback.recovery`: how long after the hook a watched probe must pass.
    pub recovery: Duration,
    pub queries_per_hour: u32,
    pub window_ms: u64,
    /// The probes shown in detail (a probe's page, the report): their bars carry latency distributions and
    /// their latest runs and failures are read. The others get counts per bar (summed by SQLite) and, when
    /// their last run failed, that failure.
    pub detail: &'a [String],
}

/// One probe as the page reads it.
#[derive(Debug, Clone, Default)]
pub struct ProbeFacts {
    /// Parallel to [`PageFacts::bars`].
    pub bars: Vec<Rollup>,
    /// The failure classes of each bar, parallel to [`ProbeFacts::bars`].
    pub bar_classes: Vec<ClassCounts>,
    pub window: Rollup,
    /// Parallel to [`UPTIME_SPANS`].
    pub uptime: Vec<Rollup>,
    pub last: Option<StoredRecord>,
    /// The latest runs, newest first (empty unless shown in detail).
    pub recent: Vec<ProbeRecordJson>,
    /// The latest failed runs, newest first (only the last one unless shown in detail, and only when the
    /// last run failed).
    pub failures: Vec<ProbeRecordJson>,
    /// When more than one location ran the probe in the last 24 h: each (by name, `""` for runs from before
    /// locations were kept), its latest run in the window and its runs of the last 24 h.
    pub locations: Vec<LocationFacts>,
}

/// One location of a probe, as the page reads it.
#[derive(Debug, Clone, Default)]
pub struct LocationFacts {
    pub location: String,
    pub last: Option<StoredRecord>,
    pub day: Rollup,
}

/// One objective: evaluated now (with the daemon's stored breach starts), and its error budget at points
/// across the period.
#[derive(Debug, Clone)]
pub struct ObjectiveFacts {
    pub evaluation: Evaluation,
    /// The objective's target (0.99 for 99 %).
    pub target: f64,
    /// (instant, the counts from the period's start to it), oldest first.
    pub burn_down: Vec<(u64, Counts)>,
}

/// The release shown: the open one, else the latest.
#[derive(Debug, Clone)]
pub struct ReleaseFacts {
    pub release: Release,
    pub watching: bool,
    pub decisions: Vec<StoredDecision>,
    pub rollback: Option<RollbackRecord>,
    pub warmup_end_ms: u64,
    pub baseline: Span,
    /// When the recovery window ends: `rollback.recovery` after the hook finished (none before).
    pub recovery_until_ms: Option<u64>,
    /// From the warm-up's end to now (or the watch's end).
    pub after: Span,
    /// Per probe, its runs in the baseline window and after the warm-up.
    pub probes: BTreeMap<String, (Rollup, Rollup)>,
}

/// A scheduled burst: its latest records and its records over the window.
#[derive(Debug, Clone)]
pub struct BurstFacts {
    pub name: String,
    pub window: Rollup,
    pub recent: Vec<ProbeRecordJson>,
}

/// Everything the page shows at `now_ms`.
#[derive(Debug, Clone)]
pub struct PageFacts {
    pub now_ms: u64,
    pub window_ms: u64,
    /// The bars of the window, oldest first: whole buckets but the last, which ends now.
    pub bars: Vec<Span>,
    pub probes: BTreeMap<String, ProbeFacts>,
    pub objectives: Vec<ObjectiveFacts>,
    pub budget: BudgetStatus,
    pub alerts: AlertStatus,
    pub silences: Vec<Silence>,
    pub release: Option<ReleaseFacts>,
    pub bursts: Vec<BurstFacts>,
}

/// The bar widths under a day: minutes that divide an hour, hours that divide a day (so a bar never
/// straddles the hour or day it is part of, and reads as one: `11-06 04:00`, not `11-06 18:00–11-07 09:00`).
const NATURAL_WIDTHS_MS: [u64; 18] = [
    60_000, 120_000, 180_000, 240_000, 300_000, 360_000, 600_000, 720_000, 900_000, 1_200_000,
    1_800_000, 3_600_000, 7_200_000, 10_800_000, 14_400_000, 21_600_000, 28_800_000, 43_200_000,
];

/// The bars of a window of `window_ms` ending at `now_ms`: at most [`MAX_BARS`], each of the narrowest
/// natural width that allows it (a whole number of days past half a day), aligned on it so their rollup
/// rows are whole; the last bar runs from the last boundary to now.
pub fn bars(now_ms: u64, window_ms: u64) -> Vec<Span> {
    let wanted = window_ms.div_ceil(MAX_BARS as u64).max(1);
    let day = Level::Day.millis();
    let width = NATURAL_WIDTHS_MS
        .into_iter()
        .find(|&w| w >= wanted)
        .unwrap_or_else(|| wanted.div_ceil(day) * day);
    let last_start = Level::Minute.start_of(now_ms) - Level::Minute.start_of(now_ms) % width;
    let from = now_ms.saturating_sub(window_ms.saturating_sub(1));
    let full = last_start.saturating_sub(from).div_ceil(width);
    let mut out: Vec<Span> = (0..full)
        .rev()
        .map(|k| {
            let start = last_start - (k + 1) * width;
            Span {
                from_ms: start,
                to_ms: start + width - 1,
            }
        })
        .collect();
    out.push(Span {
        from_ms: last_start,
        to_ms: now_ms,
    });
    out
}

/// Reads the page's facts at `now_ms` in one snapshot.
pub fn page_facts(store: &Store, q: &PageQuery<'_>, now_ms: u64) -> StoreResult<PageFacts> {
    store.atomically(|store| {
        let bars = bars(now_ms, q.window_ms);
        let window = Span::ending_at(now_ms, Duration::from_millis(q.window_ms));
        let mut probes: BTreeMap<String, ProbeFacts> = q
            .probes
            .iter()
            .map(|p| (p.clone(), ProbeFacts::default()))
            .collect();
        let counts_only: Vec<String> = q
            .probes
            .iter()
            .filter(|p| !q.detail.contains(p))
            .cloned()
            .collect();
        for (name, counts) in store.bar_counts(&counts_only, &bars)? {
            if let Some(p) = probes.get_mut(&name) {
                p.bars = counts;
            }
        }
        for (name, classes) in store.bar_classes(q.probes, &bars)? {
            if let Some(p) = probes.get_mut(&name) {
                p.bar_classes = classes;
            }
        }
        for bar in bars.iter().filter(|_| !q.detail.is_empty()) {
            for (name, rollup) in store.window_rollups(q.detail, *bar, true)? {
                if let Some(p) = probes.get_mut(&name) {
                    p.bars.push(rollup);
                }
            }
        }
        for (name, rollup) in store.window_rollups(q.probes, window, true)? {
            if let Some(p) = probes.get_mut(&name) {
                p.window = rollup;
            }
        }
        let mut day_by_location = ByLocation::new();
        for (index, (_, length)) in UPTIME_SPANS.into_iter().enumerate() {
            let span = Span::ending_at(now_ms, length);
            let (across, by_location) =
                store.window_rollups_and_locations(q.probes, span, false)?;
            if index == 0 {
                day_by_location = by_location;
            }
            for (name, rollup) in across {
                if let Some(p) = probes.get_mut(&name) {
                    p.uptime.push(rollup);
                }
            }
        }
        for (name, locations) in day_by_location {
            if let Some(p) = probes.get_mut(&name).filter(|_| locations.len() > 1) {
                for (location, day) in locations {
                    p.locations.push(LocationFacts {
                        last: store.latest_run_from(&name, Some(&location), window)?,
                        location,
                        day,
                    });
                }
            }
        }
        for (name, p) in probes.iter_mut() {
            p.last = store.latest_run_in(name, window)?;
            let failed = p.last.as_ref().is_some_and(|r| r.verdict == Verdict::Fail);
            if q.detail.contains(name) {
                p.recent = store.recent_records(name, RECENT_RUNS, false)?;
                p.failures = store.recent_records(name, RECENT_RUNS, true)?;
            } else if failed {
                p.failures = store.recent_records(name, 1, true)?;
            }
        }
        let bursts = q
            .bursts
            .iter()
            .map(|name| {
                Ok(BurstFacts {
                    name: name.clone(),
                    window: store.window_rollup(name, window)?,
                    recent: store.recent_records(name, RECENT_RUNS, false)?,
                })
            })
            .collect::<StoreResult<_>>()?;
        Ok(PageFacts {
            now_ms,
            window_ms: q.window_ms,
            bars,
            probes,
            objectives: objectives(store, q.objectives, now_ms)?,
            budget: super::budget(store, q.queries_per_hour, now_ms)?,
            alerts: alert_status(store, now_ms)?,
            silences: store.active_silences(now_ms)?,
            release: release(store, q, now_ms)?,
            bursts,
        })
    })
}

/// Each objective evaluated at `now_ms` from the daemon's stored tier states, with its burn-down.
fn objectives(
    store: &Store,
    objectives: &[Objective],
    now_ms: u64,
) -> StoreResult<Vec<ObjectiveFacts>> {
    let stored = store.slo_states()?;
    let previous: HashMap<String, Vec<TierState>> = objectives
        .iter()
        .map(|o| {
            let states = stored.get(&o.name);
            let tiers = o
                .tiers
                .iter()
                .map(|t| {
                    states
                        .and_then(|s| s.get(&t.name))
                        .copied()
                        .unwrap_or_default()
                })
                .collect();
            (o.name.clone(), tiers)
        })
        .collect();
    let evaluations = super::evaluate_objectives(store, objectives, &previous, now_ms)?;
    objectives
        .iter()
        .zip(evaluations)
        .map(|(o, evaluation)| {
            let period = Span::ending_at(now_ms, o.period);
            let step = (now_ms - period.from_ms)
                .div_ceil(BURN_DOWN_POINTS as u64)
                .max(1);
            // On whole days (hours, minutes for a short period), so they move with the runs and not the
            // clock, and their spans share rows; the last one now.
            let grid = Level::ALL
                .into_iter()
                .rev()
                .find(|l| l.millis() <= step)
                .unwrap_or(Level::Minute);
            let points: Vec<u64> = (1..BURN_DOWN_POINTS as u64)
                .map(|k| grid.start_of(period.from_ms + k * step).min(now_ms))
                .chain([now_ms])
                .collect();
            let spans: Vec<Span> = points
                .iter()
                .map(|&to_ms| Span {
                    from_ms: period.from_ms,
                    to_ms,
                })
                .collect();
            let counts = store.objective_counts(o, &spans)?;
            Ok(ObjectiveFacts {
                evaluation,
                target: o.target,
                burn_down: points.into_iter().zip(counts).collect(),
            })
        })
        .collect()
}

/// The open release, else the latest, with its decisions, rollback and each probe before and after it.
fn release(store: &Store, q: &PageQuery<'_>, now_ms: u64) -> StoreResult<Option<ReleaseFacts>> {
    let Some(watch) = super::release_watch(store, now_ms)? else {
        return Ok(None);
    };
    let release = watch.release;
    let warmup_end_ms = release
        .started_at_ms
        .saturating_add(crate::slo::millis(q.watch.warmup));
    let baseline = Span::ending_at(
        release.started_at_ms.saturating_sub(1),
        q.watch.baseline_window,
    );
    let end = release
        .ended_at_ms
        .unwrap_or(release.watch_until_ms)
        .min(now_ms);
    let after = Span::between(warmup_end_ms, end);
    let before_rollups = store.window_rollups(q.probes, baseline, true)?;
    let mut after_rollups = store.window_rollups(q.probes, after, true)?;
    let probes = before_rollups
        .into_iter()
        .map(|(name, before)| {
            let after = after_rollups.remove(&name).unwrap_or_default();
            (name, (before, after))
        })
        .collect();
    let rollback = store.rollback_of(release.id)?;
    Ok(Some(ReleaseFacts {
        decisions: store.decisions(release.id)?,
        recovery_until_ms: rollback
            .as_ref()
            .and_then(|r| r.finished_at_ms)
            .map(|at| at.saturating_add(crate::slo::millis(q.recovery))),
        rollback,
        watching: watch.watching,
        warmup_end_ms,
        baseline,
        after,
        probes,
        release,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_whole_buckets_ending_with_the_current_one() {
        const M: u64 = 60_000;
        const H: u64 = 60 * M;
        const D: u64 = 24 * H;
        let span = |from_ms, to_ms| Span { from_ms, to_ms };
        let now = 100 * D + 10 * H + 7 * M + 1234;
        // 24 h: 30-minute bars aligned on 30 minutes since the epoch, 48 whole and the current one.
        let day = bars(now, D);
        assert_eq!(day.len(), 49);
        let last = day[day.len() - 1];
        assert_eq!(last.to_ms, now);
        assert_eq!(last.from_ms % (30 * M), 0);
        for pair in day.windows(2) {
            assert_eq!(pair[0].to_ms + 1, pair[1].from_ms);
        }
        assert!(day[0].from_ms <= now - D + 1 && day[1].from_ms > now - D + 1);
        // 30 d: a bar a day (15 hours would do, but would straddle days), 30 whole and today.
        let month = bars(now, 30 * D);
        assert_eq!(month[0], span(70 * D, 71 * D - 1));
        assert_eq!(month.len(), 31);
        // 7 d: 4-hour bars (3.5 would do), 42 whole and the current one.
        let week = bars(now, 7 * D);
        assert_eq!(week[0].to_ms - week[0].from_ms + 1, 4 * H);
        assert_eq!(week.len(), 43);
        assert_eq!(week[42], span(100 * D + 8 * H, now));
        // One hour: two-minute bars, 30 whole and the current one.
        let hour = bars(now, H);
        assert_eq!(hour.len(), 31);
        assert_eq!(
            hour[0],
            span(100 * D + 9 * H + 6 * M, 100 * D + 9 * H + 8 * M - 1)
        );
        assert_eq!(hour[30], span(100 * D + 10 * H + 6 * M, now));
        // 90 days: 2-day bars (one more than a day each).
        let quarter = bars(now, 90 * D);
        assert_eq!(quarter[0].to_ms - quarter[0].from_ms + 1, 2 * D);
    }
}
