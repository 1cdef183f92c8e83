//! Spans of time, counting an objective's runs in them, burn rates and the error budget.

use super::objective::Objective;
use super::observation::{Counts, Observation, Sample};
use serde::Serialize;
use std::time::Duration;

/// An inclusive span of instants `[from_ms, to_ms]`, in milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from_ms: u64,
    pub to_ms: u64,
}

impl Span {
    /// The window `(now − length, now]`: runs younger than `length`, none from the future. A window longer
    /// than the time since the epoch simply starts at 0.
    pub fn ending_at(now_ms: u64, length: Duration) -> Span {
        Span {
            from_ms: now_ms.saturating_add(1).saturating_sub(millis(length)),
            to_ms: now_ms,
        }
    }

    /// `[from_ms, now_ms]`, e.g. everything since the end of a warm-up. Empty when `from_ms > now_ms`.
    pub fn between(from_ms: u64, now_ms: u64) -> Span {
        Span {
            from_ms,
            to_ms: now_ms,
        }
    }

    pub fn contains(&self, at_ms: u64) -> bool {
        (self.from_ms..=self.to_ms).contains(&at_ms)
    }
}

/// A duration in whole milliseconds, saturating (no configured duration comes near the limit).
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Counts the objective's runs in each span, in one pass over `observations` (which need not be sorted):
/// O(n · (spans + probes)). The result is parallel to `spans`.
pub fn count_spans(
    objective: &Objective,
    observations: &[Observation],
    spans: &[Span],
) -> Vec<Counts> {
    count_spans_by(observations, spans, |o| objective.classify(o))
}

/// Like [`count_spans`], with any classification (`None` skips the run): e.g. one probe of an objective.
pub fn count_spans_by(
    observations: &[Observation],
    spans: &[Span],
    classify: impl Fn(&Observation) -> Option<Sample>,
) -> Vec<Counts> {
    let mut counts = vec![Counts::default(); spans.len()];
    for observation in observations {
        let Some(sample) = classify(observation) else {
            continue;
        };
        for (span, count) in spans.iter().zip(counts.iter_mut()) {
            if span.contains(observation.at_ms) {
                count.add(sample);
            }
        }
    }
    counts
}

/// `bad / conclusive / (1 − target)`: 1 spends the error budget exactly over the period. `None` when there
/// is no conclusive run — a window of only inconclusive runs, or none, says nothing.
pub fn burn_rate(counts: &Counts, target: f64) -> Option<f64> {
    counts.bad_fraction().map(|bad| bad / (1.0 - target))
}

/// Relative slack when comparing a burn rate with a threshold, so that exactly 144 bad runs of 1000 burn at
/// 14.4× against a 0.99 target despite `1 − 0.99` not being exactly 0.01 in binary.
const BURN_TOLERANCE: f64 = 1e-9;

/// One window of a tier at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WindowStat {
    #[serde(serialize_with = "super::serialize_span")]
    pub window: Duration,
    pub counts: Counts,
    pub burn_rate: Option<f64>,
}

impl WindowStat {
    pub fn new(window: Duration, counts: Counts, target: f64) -> WindowStat {
        WindowStat {
            window,
            counts,
            burn_rate: burn_rate(&counts, target),
        }
    }

    /// Whether this window burns at or above `rate` (never without a conclusive run).
    pub fn burns_at(&self, rate: f64) -> bool {
        self.burn_rate
            .is_some_and(|r| r >= rate * (1.0 - BURN_TOLERANCE))
    }
}

/// The error budget over the objective's period.
///
/// Allowed bad runs are `(1 − target) × conclusive runs`: probes run at a steady rate, so the budget scales
/// with the runs actually made. The remaining fraction `1 − bad / allowed` equals `1 − burn rate over the
/// period`; it goes negative once the budget is overspent, and is `None` when the period holds no
/// conclusive run (nothing measured is not a full budget, just as it is not an empty one).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ErrorBudget {
    #[serde(serialize_with = "super::serialize_span")]
    pub period: Duration,
    pub counts: Counts,
    pub allowed_bad: f64,
    pub remaining: Option<f64>,
}

impl ErrorBudget {
    pub fn new(period: Duration, counts: Counts, target: f64) -> ErrorBudget {
        ErrorBudget {
            period,
            counts,
            allowed_bad: (1.0 - target) * counts.conclusive() as f64,
            remaining: burn_rate(&counts, target).map(|burn| 1.0 - burn),
        }
    }
}
