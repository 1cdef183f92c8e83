//! Service-level objectives over probe results (pure): SLIs, windows, burn rates, error budget, tier state.
//!
//! Depends only on `probe` (the result vocabulary) and `config` (the error type and `suggest`): no tokio,
//! reqwest, rusqlite or clock. Time comes in as milliseconds since the Unix epoch, so every function here is
//! table-tested with a manual clock, and the daemon can replay any past instant from stored observations.
//!
//! The shape follows the SRE workbook's multi-window, multi-burn-rate alerts, adapted to probe traffic:
//!
//! * An observation is one probe run. Inconclusive runs (429, 503 with Retry-After, budget skips) are excluded
//!   from every SLI: never good, never bad. A window holding no conclusive run has no burn rate (`None`), not
//!   a zero one — no data is not good data.
//! * The burn rate of a window is `bad / conclusive / (1 − target)`: 1 spends the budget exactly over the
//!   period, 14.4 spends 2 % of a 30-day budget in an hour.
//! * A tier is breached when its long and its short window both burn at or above its rate **and** the long
//!   window holds at least `min_bad` bad runs — probes are low traffic, and one failed run out of four must
//!   not page anyone.
//! * [`step`] turns "breached now" into a [`TierState`] that remembers when the breach began; the release
//!   watch needs that instant.
//!
//! Cost: [`evaluate`] makes one pass over the observations it is given, comparing each with every window of
//! the objective (two per tier plus the budget period: 7 for the default tiers) and with the objective's
//! probe list, so it is O(n · (w + p)) time and O(w) memory. The observations need not be sorted. A few
//! thousand observations evaluate in well under a millisecond, so the daemon can evaluate every few seconds.

mod compile;
mod objective;
mod observation;
mod raw;
mod tier;
mod window;

pub use compile::{compile, compile_all};
pub use objective::{
    DEFAULT_MIN_BAD, DEFAULT_PERIOD, Objective, Severity, Sli, Tier, default_tiers,
};
pub use observation::{Counts, Observation, Sample};
pub use raw::{RawObjective, RawTier};
pub use tier::{Evaluation, TierEvaluation, TierState, evaluate, evaluate_counts, spans, step};
pub(crate) use window::millis;
pub use window::{ErrorBudget, Span, WindowStat, burn_rate, count_spans, count_spans_by};

#[cfg(test)]
mod compile_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod window_tests;

/// A ratio or rate for people: at most three decimals, trailing zeros dropped (`14.4`, `10`, `0.333`).
pub(crate) fn number(x: f64) -> String {
    let text = format!("{x:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match text {
        "-0" => "0".to_string(),
        other => other.to_string(),
    }
}

/// A span of time for people, as configured: `1h`, `5m`, `3days`.
pub(crate) fn span_text(d: std::time::Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// Serializes a duration as [`span_text`] does, for JSON read by people and hooks.
pub(crate) fn serialize_span<S: serde::Serializer>(
    d: &std::time::Duration,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&span_text(*d))
}
