//! Tier evaluation at one instant and the tier state machine that remembers when a breach began.

use super::objective::{Objective, Tier};
use super::observation::{Counts, Observation};
use super::window::{ErrorBudget, Span, WindowStat, count_spans};
use serde::{Deserialize, Serialize};

/// What the daemon keeps per tier between evaluations (and stores, so a restart keeps the breach's start).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierState {
    /// The first evaluation that found the tier breached, while it stays breached; `None` when not breached.
    pub breached_since: Option<u64>,
    /// The instant of the last evaluation (0 before the first).
    pub last_evaluated: u64,
}

/// Advances a tier's state to `now_ms`.
///
/// A breach keeps the instant of the first evaluation that saw it; any evaluation that does not see it
/// clears it, so a breach that stops and starts again begins anew. The start is only as precise as the
/// evaluation interval, and after a gap in evaluation (a restart) it is the first evaluation after the gap —
/// which is why the release watch also checks the breach state at release time from stored observations.
/// Should the clock step back, the start moves back to `now_ms` too: an earlier start is the safe error,
/// because it can only make a breach look older than a release, never newer.
pub fn step(state: TierState, breached_now: bool, now_ms: u64) -> TierState {
    TierState {
        breached_since: breached_now.then(|| {
            state
                .breached_since
                .map_or(now_ms, |since| since.min(now_ms))
        }),
        last_evaluated: now_ms,
    }
}

impl Tier {
    /// Whether the two windows breach this tier: both burn at or above `burn`, and the long window holds at
    /// least `min_bad` bad runs (the minimum-failures guard; 0 disables it).
    pub fn breached_by(&self, long: &WindowStat, short: &WindowStat, min_bad: u32) -> bool {
        long.burns_at(self.burn)
            && short.burns_at(self.burn)
            && long.counts.bad >= u64::from(min_bad)
    }
}

/// One tier of an objective at one instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierEvaluation {
    pub tier: Tier,
    pub long: WindowStat,
    pub short: WindowStat,
    /// The state after this evaluation: `breached_since` is `Some` exactly when the tier is breached now.
    pub state: TierState,
}

impl TierEvaluation {
    pub fn breached(&self) -> bool {
        self.state.breached_since.is_some()
    }
}

/// Every tier of an objective, and its error budget, at one instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub objective: String,
    pub now_ms: u64,
    /// Parallel to the objective's tiers.
    pub tiers: Vec<TierEvaluation>,
    pub budget: ErrorBudget,
}

/// Evaluates every tier of `objective` at `now_ms` from `observations` (any order, any probes: runs of
/// other probes are skipped), and steps each tier's state. `previous` is parallel to `objective.tiers`; a
/// missing entry (first evaluation, a tier added by a config reload) starts from [`TierState::default`].
///
/// One pass over the observations: O(n · (2 · tiers + 1 + probes)).
pub fn evaluate(
    objective: &Objective,
    observations: &[Observation],
    previous: &[TierState],
    now_ms: u64,
) -> Evaluation {
    let counts = count_spans(objective, observations, &spans(objective, now_ms));
    evaluate_counts(objective, &counts, previous, now_ms)
}

/// The windows an evaluation at `now_ms` counts: each tier's long and short window, then the period.
pub fn spans(objective: &Objective, now_ms: u64) -> Vec<Span> {
    let mut spans: Vec<Span> = objective
        .tiers
        .iter()
        .flat_map(|t| [t.long, t.short])
        .map(|length| Span::ending_at(now_ms, length))
        .collect();
    spans.push(Span::ending_at(now_ms, objective.period));
    spans
}

/// [`evaluate`] from the counts of the windows [`spans`] gives (parallel to them), however they were counted
/// (raw runs or rollups).
pub fn evaluate_counts(
    objective: &Objective,
    counts: &[Counts],
    previous: &[TierState],
    now_ms: u64,
) -> Evaluation {
    let count = |i: usize| counts.get(i).copied().unwrap_or_default();
    let stat = |i: usize, window| WindowStat::new(window, count(i), objective.target);
    let tiers = objective
        .tiers
        .iter()
        .enumerate()
        .map(|(i, tier)| {
            let long = stat(2 * i, tier.long);
            let short = stat(2 * i + 1, tier.short);
            let before = previous.get(i).copied().unwrap_or_default();
            let breached = tier.breached_by(&long, &short, objective.min_bad);
            TierEvaluation {
                tier: tier.clone(),
                long,
                short,
                state: step(before, breached, now_ms),
            }
        })
        .collect();
    Evaluation {
        objective: objective.name.clone(),
        now_ms,
        tiers,
        budget: ErrorBudget::new(
            objective.period,
            count(2 * objective.tiers.len()),
            objective.target,
        ),
    }
}
