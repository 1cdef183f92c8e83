//! Objectives over windows: SLO evaluations, the release watch's counts, the latency figures of alert
//! emails — all counted from the rollups.

use crate::release::{ObjectiveWatch, Release, WatchCounts, WatchSettings, WatchSpans};
use crate::slo::{Evaluation, Objective, Span, TierState, evaluate_counts, spans};
use crate::store::{Store, StoreResult};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Every objective evaluated at `now` over its windows, each tier stepped from `previous` (by objective
/// name, parallel to its tiers; absent: fresh, as `status` shows burn rates without the daemon's breach
/// history). One snapshot.
pub fn evaluate_objectives(
    store: &Store,
    objectives: &[Objective],
    previous: &HashMap<String, Vec<TierState>>,
    now: u64,
) -> StoreResult<Vec<Evaluation>> {
    store.atomically(|store| {
        objectives
            .iter()
            .map(|o| {
                let counts = store.objective_counts(o, &spans(o, now))?;
                let states = previous.get(&o.name).map_or(&[][..], Vec::as_slice);
                Ok(evaluate_counts(o, &counts, states, now))
            })
            .collect()
    })
}

/// The release watch's view of every objective at `now` (see [`ObjectiveWatch::from_counts`]), with each
/// objective's tier states from the previous evaluation in `states`, and the locations `left_out` of the
/// quorum (their prober is unhealthy: see [`crate::release::FleetHealth`]). One snapshot.
pub fn objective_watches(
    store: &Store,
    objectives: &[Objective],
    states: &HashMap<String, Vec<TierState>>,
    release: &Release,
    settings: &WatchSettings,
    left_out: &BTreeSet<String>,
    now: u64,
) -> StoreResult<Vec<ObjectiveWatch>> {
    store.atomically(|store| {
        objectives
            .iter()
            .map(|o| {
                let spans = WatchSpans::of(o, release, settings, now);
                let counts = watch_counts(store, o, &spans, left_out)?;
                let states = states.get(&o.name).map_or(&[][..], Vec::as_slice);
                Ok(ObjectiveWatch::from_counts(
                    o, &counts, states, settings, now,
                ))
            })
            .collect()
    })
}

fn watch_counts(
    store: &Store,
    objective: &Objective,
    spans: &WatchSpans,
    left_out: &BTreeSet<String>,
) -> StoreResult<WatchCounts> {
    let all: Vec<Span> = spans
        .now
        .iter()
        .chain(&spans.at_release)
        .chain([&spans.since_warmup])
        .copied()
        .collect();
    let mut counts = store.objective_counts_leaving_out(objective, &all, left_out)?;
    let since_warmup = counts.pop().unwrap_or_default();
    let at_release = counts.split_off(spans.now.len());
    let baseline = objective
        .probes
        .iter()
        .map(|probe| {
            let one = Objective {
                probes: vec![probe.clone()],
                ..objective.clone()
            };
            Ok(store.objective_counts_leaving_out(&one, &[spans.baseline], left_out)?[0])
        })
        .collect::<StoreResult<_>>()?;
    Ok(WatchCounts {
        now: counts,
        at_release,
        since_warmup,
        baseline,
    })
}

/// Per probe: the p50 and p95 latency (ms) of its conclusive runs in a window.
pub type LatencyFigures = BTreeMap<String, (Option<f64>, Option<f64>)>;

/// The p50 and p95 latency (ms) of each of `probes`' conclusive runs in `span`, from the rollups (nearest
/// rank, read as the middle of the latency bucket); `None` without conclusive runs.
pub fn latency_percentiles(
    store: &Store,
    probes: &[String],
    span: Span,
) -> StoreResult<LatencyFigures> {
    let ms = |us: Option<u64>| us.map(|us| us as f64 / 1000.0);
    Ok(store
        .window_rollups(probes, span, true)?
        .into_iter()
        .map(|(probe, window)| {
            let figures = (
                ms(window.latency.quantile(0.5)),
                ms(window.latency.quantile(0.95)),
            );
            (probe, figures)
        })
        .collect())
}
