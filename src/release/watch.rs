//! What the watch looks at: the release, and per objective its tiers now, its samples since the warm-up and
//! its pre-release baseline — with a builder from stored observations.

use super::decision::WatchSettings;
use crate::slo::{
    Counts, Objective, Observation, Severity, Span, TierEvaluation, TierState, count_spans,
    count_spans_by, evaluate_counts, millis, spans,
};
use serde::Serialize;
use std::time::Duration;

/// How long a release is watched when `release start` gives no duration.
pub const DEFAULT_WATCH: Duration = Duration::from_secs(24 * 3600);
/// Outcomes the watch records besides its decisions (the hook's own: see `monitor::hook_task`): whether a
/// watched probe passed within `rollback.recovery` after the hook finished.
pub const RECOVERY_VERIFIED: &str = "recovery_verified";
pub const RECOVERY_NOT_VERIFIED: &str = "recovery_not_verified";
/// The span before a release whose runs form its baseline: the longest default page window.
pub const DEFAULT_BASELINE_WINDOW: Duration = Duration::from_secs(6 * 3600);
/// The span over which the prober's own health is measured.
pub const DEFAULT_PROBER_WINDOW: Duration = Duration::from_secs(5 * 60);

/// A release under watch, as recorded by `oewsprobe release start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    pub version: String,
    pub rollback_to: String,
    pub started_at_ms: u64,
    /// The end of the watch (exclusive): no decision rolls back at or after it.
    pub until_ms: u64,
}

impl Release {
    /// The instant the warm-up ends: data from before it never confirms a breach.
    pub fn warmup_end_ms(&self, warmup: Duration) -> u64 {
        self.started_at_ms.saturating_add(millis(warmup))
    }
}

/// One objective as the watch sees it at one instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectiveWatch {
    pub objective: String,
    /// Every tier evaluated now (with its stepped state); only page tiers can lead to a rollback.
    pub tiers: Vec<TierEvaluation>,
    /// The objective's runs in `[warm-up end, now]`.
    pub since_warmup: Counts,
    pub baseline: ObjectiveBaseline,
}

/// The objective before the release.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectiveBaseline {
    #[serde(serialize_with = "crate::slo::serialize_span")]
    pub window: Duration,
    /// Whether any page tier was breached at the instant the release started.
    pub breached_at_release: bool,
    /// One entry per probe of the objective: its runs in the window before the release, counted with the
    /// objective's SLI. An objective without entries has no baseline, and never rolls back.
    pub probes: Vec<ProbeBaseline>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeBaseline {
    pub probe: String,
    pub counts: Counts,
}

/// The windows the watch counts for one objective at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchSpans {
    /// The objective's windows now ([`spans`]).
    pub now: Vec<Span>,
    /// The objective's windows at the instant the release started.
    pub at_release: Vec<Span>,
    /// `[warm-up end, now]`.
    pub since_warmup: Span,
    /// The baseline window: the `baseline_window` before the release.
    pub baseline: Span,
}

impl WatchSpans {
    pub fn of(
        objective: &Objective,
        release: &Release,
        settings: &WatchSettings,
        now_ms: u64,
    ) -> WatchSpans {
        WatchSpans {
            now: spans(objective, now_ms),
            at_release: spans(objective, release.started_at_ms),
            since_warmup: Span::between(release.warmup_end_ms(settings.warmup), now_ms),
            baseline: Span::ending_at(
                release.started_at_ms.saturating_sub(1),
                settings.baseline_window,
            ),
        }
    }
}

/// The objective's runs counted in each of its [`WatchSpans`] (however they were counted: raw runs or
/// rollups).
#[derive(Debug, Clone, PartialEq)]
pub struct WatchCounts {
    /// Parallel to [`WatchSpans::now`].
    pub now: Vec<Counts>,
    /// Parallel to [`WatchSpans::at_release`].
    pub at_release: Vec<Counts>,
    pub since_warmup: Counts,
    /// Per probe of the objective, in its order: its runs in the baseline window.
    pub baseline: Vec<Counts>,
}

impl ObjectiveWatch {
    /// Builds the watch's view of `objective` at `now_ms` from stored observations, which should reach back
    /// to `started_at − max(baseline window, longest page window)`: counts them in the [`WatchSpans`] and
    /// calls [`ObjectiveWatch::from_counts`].
    ///
    /// Cost: three passes over the observations plus one per probe.
    pub fn observe(
        objective: &Objective,
        observations: &[Observation],
        states: &[TierState],
        release: &Release,
        settings: &WatchSettings,
        now_ms: u64,
    ) -> ObjectiveWatch {
        let spans = WatchSpans::of(objective, release, settings, now_ms);
        let counts = WatchCounts {
            now: count_spans(objective, observations, &spans.now),
            at_release: count_spans(objective, observations, &spans.at_release),
            since_warmup: count_spans(objective, observations, &[spans.since_warmup])[0],
            baseline: objective
                .probes
                .iter()
                .map(|probe| {
                    count_spans_by(observations, &[spans.baseline], |o| {
                        (o.probe == *probe).then(|| objective.sli.classify(o))
                    })[0]
                })
                .collect(),
        };
        ObjectiveWatch::from_counts(objective, &counts, states, settings, now_ms)
    }

    /// The watch's view of `objective` at `now_ms` from its runs counted in its [`WatchSpans`]. `states`
    /// are the tiers' states from the previous evaluation (parallel to the objective's tiers), as for
    /// [`evaluate_counts`]; the page tiers at release time are re-evaluated from the counts, so a daemon
    /// restart cannot hide a breach that was already there.
    pub fn from_counts(
        objective: &Objective,
        counts: &WatchCounts,
        states: &[TierState],
        settings: &WatchSettings,
        now_ms: u64,
    ) -> ObjectiveWatch {
        let now = evaluate_counts(objective, &counts.now, states, now_ms);
        let at_release = evaluate_counts(objective, &counts.at_release, &[], now_ms);
        let probes = objective
            .probes
            .iter()
            .zip(&counts.baseline)
            .map(|(probe, counts)| ProbeBaseline {
                probe: probe.clone(),
                counts: *counts,
            })
            .collect();
        ObjectiveWatch {
            objective: objective.name.clone(),
            tiers: now.tiers,
            since_warmup: counts.since_warmup,
            baseline: ObjectiveBaseline {
                window: settings.baseline_window,
                breached_at_release: at_release
                    .tiers
                    .iter()
                    .any(|t| t.tier.severity == Severity::Page && t.breached()),
                probes,
            },
        }
    }

    /// The page tiers breached now.
    pub(crate) fn page_breaches(&self) -> impl Iterator<Item = &TierEvaluation> {
        self.tiers
            .iter()
            .filter(|t| t.tier.severity == Severity::Page && t.breached())
    }
}
