//! What the watch looks at: the release, and per objective its tiers now, its samples since the warm-up and
//! its pre-release baseline — with a builder from stored observations.

use super::decision::WatchSettings;
use crate::slo::{
    Counts, Objective, Observation, Severity, Span, TierEvaluation, TierState, count_spans,
    count_spans_by, evaluate, millis,
};
use serde::Serialize;
use std::time::Duration;

/// How long a release is watched when `release start` gives no duration.
pub const DEFAULT_WATCH: Duration = Duration::from_secs(24 * 3600);
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

impl ObjectiveWatch {
    /// Builds the watch's view of `objective` at `now_ms` from stored observations, which should reach back
    /// to `started_at − max(baseline window, longest page window)`. `states` are the tiers' states from the
    /// previous evaluation (parallel to the objective's tiers), as for [`evaluate`]; the page tiers at
    /// release time are re-evaluated from the observations, so a daemon restart cannot hide a breach that
    /// was already there.
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
        let now = evaluate(objective, observations, states, now_ms);
        let warmup_end = release.warmup_end_ms(settings.warmup);
        let since_warmup = count_spans(
            objective,
            observations,
            &[Span::between(warmup_end, now_ms)],
        )[0];
        let at_release = evaluate(objective, observations, &[], release.started_at_ms);
        let before = Span::ending_at(
            release.started_at_ms.saturating_sub(1),
            settings.baseline_window,
        );
        let probes = objective
            .probes
            .iter()
            .map(|probe| ProbeBaseline {
                probe: probe.clone(),
                counts: count_spans_by(observations, &[before], |o| {
                    (o.probe == *probe).then(|| objective.sli.classify(o))
                })[0],
            })
            .collect();
        ObjectiveWatch {
            objective: objective.name.clone(),
            tiers: now.tiers,
            since_warmup,
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
