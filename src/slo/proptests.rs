//! Property tests: inconclusive runs and other probes' runs never move an SLO; order does not matter.

use super::window_tests::objective;
use super::*;
use crate::probe::{FailureClass, Verdict};
use proptest::prelude::*;
use std::time::Duration;

const NOW: u64 = 1_800_000_000_000;
const SEVEN_HOURS: u64 = 7 * 3600 * 1000;

fn observation(probe: &'static str, verdicts: Vec<Verdict>) -> impl Strategy<Value = Observation> {
    (0..SEVEN_HOURS, prop::sample::select(verdicts), 0u64..60_000).prop_map(
        move |(age, verdict, latency)| Observation {
            at_ms: NOW - age,
            probe: probe.to_string(),
            verdict,
            class: (verdict != Verdict::Pass).then_some(FailureClass::Throttled),
            latency: Duration::from_millis(latency),
        },
    )
}

fn any_run() -> impl Strategy<Value = Observation> {
    observation(
        "q",
        vec![Verdict::Pass, Verdict::Fail, Verdict::Inconclusive],
    )
}

/// Runs that must not count: inconclusive runs of the objective's probe, any run of another probe.
fn noise() -> impl Strategy<Value = Observation> {
    prop_oneof![
        observation("q", vec![Verdict::Inconclusive]),
        observation(
            "other",
            vec![Verdict::Pass, Verdict::Fail, Verdict::Inconclusive]
        ),
    ]
}

fn sli() -> impl Strategy<Value = Sli> {
    prop_oneof![
        Just(Sli::Availability),
        Just(Sli::Latency {
            threshold: Duration::from_secs(30)
        }),
    ]
}

/// What an evaluation says about good and bad runs, leaving out the inconclusive tallies.
fn verdicts(evaluation: &Evaluation) -> Vec<(u64, u64, Option<f64>, Option<u64>)> {
    evaluation
        .tiers
        .iter()
        .flat_map(|t| {
            [t.long, t.short].map(|w| {
                (
                    w.counts.good,
                    w.counts.bad,
                    w.burn_rate,
                    t.state.breached_since,
                )
            })
        })
        .collect()
}

proptest! {
    #[test]
    fn inconclusive_and_foreign_runs_never_move_an_slo(
        sli in sli(),
        min_bad in 0u32..4,
        runs in prop::collection::vec(any_run(), 0..120),
        extra in prop::collection::vec(noise(), 1..60),
    ) {
        let o = objective(sli, 0.99, min_bad);
        let before = evaluate(&o, &runs, &[], NOW);
        let mut noisy = runs.clone();
        noisy.extend(extra);
        let after = evaluate(&o, &noisy, &[], NOW);
        prop_assert_eq!(verdicts(&before), verdicts(&after));
        prop_assert_eq!(before.budget.remaining, after.budget.remaining);
    }

    #[test]
    fn order_does_not_matter(runs in prop::collection::vec(any_run(), 0..120)) {
        let o = objective(Sli::Availability, 0.99, 3);
        let mut reversed = runs.clone();
        reversed.reverse();
        prop_assert_eq!(evaluate(&o, &runs, &[], NOW), evaluate(&o, &reversed, &[], NOW));
    }

    #[test]
    fn a_burn_rate_exists_exactly_when_a_run_was_conclusive(
        good in 0u64..50, bad in 0u64..50, inconclusive in 0u64..50,
    ) {
        let rate = burn_rate(&Counts::new(good, bad, inconclusive), 0.99);
        prop_assert_eq!(rate.is_some(), good + bad > 0);
        prop_assert!(rate.is_none_or(|r| (0.0..=100.0 + 1e-9).contains(&r)));
    }
}
