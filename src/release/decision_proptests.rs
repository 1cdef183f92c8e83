//! Property tests: `decide` never rolls back when any guard fails, dry run never calls the hook, and
//! inconclusive runs never change a decision.

use super::decision_tests::{at, tier};
use super::*;
use crate::slo::{Counts, Severity, millis};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use std::time::Duration;

fn counts(max: u64) -> impl Strategy<Value = Counts> {
    (0..max, 0..max, 0..4u64).prop_map(|(g, b, i)| Counts::new(g, b, i))
}

/// Minutes after the release, often near the interesting edges.
fn minute() -> impl Strategy<Value = i64> {
    prop_oneof![1 => -90i64..-1, 4 => 0i64..40, 4 => 40i64..300]
}

/// When a tier's breach began, if it is breached.
fn since() -> impl Strategy<Value = Option<i64>> {
    prop::option::weighted(0.8, minute())
}

fn objective() -> impl Strategy<Value = ObjectiveWatch> {
    (
        [since(), since(), since()],
        counts(60),
        counts(20),
        any::<bool>(),
        prop_oneof![1 => Just(vec![]), 9 => prop::collection::vec(counts(12), 1..3)],
        prop::bool::weighted(0.8),
    )
        .prop_map(
            move |(since, since_warmup, window, breached_at_release, baseline, healthy)| {
                let since = since.map(|m| m.map(at));
                ObjectiveWatch {
                    objective: String::new(),
                    tiers: (0..3).map(|i| tier(i, since[i], window, window)).collect(),
                    since_warmup,
                    baseline: ObjectiveBaseline {
                        window: DEFAULT_BASELINE_WINDOW,
                        breached_at_release: breached_at_release && !healthy,
                        probes: baseline
                            .into_iter()
                            .enumerate()
                            .map(|(i, counts)| ProbeBaseline {
                                probe: format!("p{i}"),
                                counts: if healthy {
                                    Counts { bad: 0, ..counts }
                                } else {
                                    counts
                                },
                            })
                            .collect(),
                    },
                }
            },
        )
}

fn input() -> impl Strategy<Value = WatchInput> {
    (
        (
            minute(),
            0i64..400,
            0u64..30,
            0u32..8,
            0u32..5,
            prop::sample::select(vec![0.0, 0.5, 1.0]),
        ),
        (
            any::<bool>(),
            prop::bool::weighted(0.2),
            prop_oneof![1 => Just(0u64), 5 => 1u64..6],
            prop_oneof![4 => Just(0u64), 1 => 0u64..6],
        ),
        prop::collection::vec(objective(), 0..3),
    )
        .prop_map(
            |(
                (now, until, warmup, min_samples, baseline_min, max_bad),
                (dry_run, already, runs, failures),
                mut objectives,
            )| {
                for (i, o) in objectives.iter_mut().enumerate() {
                    o.objective = format!("objective-{i}"); // unique, as compile_all ensures
                }
                WatchInput {
                    release: Release {
                        version: "v2".into(),
                        rollback_to: "v1".into(),
                        started_at_ms: at(0),
                        until_ms: at(until),
                    },
                    settings: WatchSettings {
                        warmup: Duration::from_secs(warmup * 60),
                        min_samples,
                        baseline_min_samples: baseline_min,
                        baseline_max_bad_fraction: max_bad,
                        dry_run,
                        ..WatchSettings::default()
                    },
                    now_ms: at(now),
                    objectives,
                    prober: ProberHealth {
                        window: DEFAULT_PROBER_WINDOW,
                        runs,
                        monitor_side_failures: failures.min(runs),
                    },
                    already_rolled_back: already,
                }
            },
        )
}

/// Every guard, restated from the issue rather than from the code, for one breach of one objective.
fn breach_passes_every_guard(input: &WatchInput, breach: &BreachEvidence) -> bool {
    let s = &input.settings;
    let warmup_end = input.release.started_at_ms + millis(s.warmup);
    let Some(o) = input
        .objectives
        .iter()
        .find(|o| o.objective == breach.objective)
    else {
        return false;
    };
    let page_since: Vec<u64> = o
        .tiers
        .iter()
        .filter(|t| t.tier.severity == Severity::Page)
        .filter_map(|t| t.state.breached_since)
        .collect();
    let global = !input.already_rolled_back
        && input.now_ms < input.release.until_ms
        && input.now_ms >= warmup_end
        && input.prober.runs > 0
        && input.prober.monitor_side_failures < input.prober.runs;
    let timing = breach.tier.severity == Severity::Page
        && page_since.contains(&breach.breached_since_ms)
        && page_since
            .iter()
            .all(|since| *since >= input.release.started_at_ms)
        && input.now_ms - millis(breach.tier.short) >= warmup_end;
    let baseline = !o.baseline.breached_at_release
        && !o.baseline.probes.is_empty()
        && o.baseline.probes.iter().all(|p| {
            p.counts.conclusive() >= u64::from(s.baseline_min_samples.max(1))
                && p.counts.bad as f64 <= s.baseline_max_bad_fraction * p.counts.conclusive() as f64
        });
    let samples = o.since_warmup.conclusive() >= u64::from(s.min_samples);
    global && timing && baseline && samples
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_rolls_back_when_a_guard_fails(input in input()) {
        match decide(&input) {
            Decision::Rollback { evidence, .. } | Decision::WouldRollback { evidence, .. } => {
                prop_assert!(!evidence.breaches.is_empty());
                for breach in &evidence.breaches {
                    prop_assert!(breach_passes_every_guard(&input, breach), "{breach:?}");
                }
                prop_assert_eq!(evidence.dry_run, input.settings.dry_run);
            }
            Decision::Hold { .. } => {}
        }
    }

    #[test]
    fn breaking_any_global_guard_holds(input in input(), guard in 0..5usize) {
        let mut broken = input;
        match guard {
            0 => broken.already_rolled_back = true,
            1 => broken.now_ms = broken.release.until_ms,
            2 => broken.now_ms = broken.release.started_at_ms + millis(broken.settings.warmup) - 1,
            3 => broken.prober.monitor_side_failures = broken.prober.runs,
            _ => broken.settings.dry_run = true,
        }
        let decision = decide(&broken);
        prop_assert!(!decision.is_rollback(), "{decision}");
    }

    #[test]
    fn dry_run_changes_only_the_kind_of_decision(input in input()) {
        let armed = decide(&WatchInput { settings: WatchSettings { dry_run: false, ..input.settings.clone() }, ..input.clone() });
        let dry = decide(&WatchInput { settings: WatchSettings { dry_run: true, ..input.settings.clone() }, ..input });
        match (armed, dry) {
            (Decision::Rollback { reason: a, .. }, Decision::WouldRollback { reason: b, .. }) => prop_assert_eq!(a, b),
            (Decision::Hold { reason: a }, Decision::Hold { reason: b }) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "{a} / {b}"),
        }
    }

    #[test]
    fn more_inconclusive_runs_never_change_a_breach_decision(input in input(), extra in 1u64..100) {
        let mut noisy = input.clone();
        for o in &mut noisy.objectives {
            o.since_warmup.inconclusive += extra;
            for p in &mut o.baseline.probes {
                p.counts.inconclusive += extra;
            }
        }
        let before = decide(&input);
        let after = decide(&noisy);
        // Only "nothing conclusive happened" may change its text: it counts the inconclusive runs.
        match (&before, &after) {
            (Decision::Hold { reason: HoldReason::NoData | HoldReason::OnlyInconclusive { .. } },
             Decision::Hold { reason: HoldReason::OnlyInconclusive { .. } }) => {}
            (Decision::Hold { reason: a }, Decision::Hold { reason: b }) => {
                prop_assert_eq!(a.to_string(), b.to_string())
            }
            (Decision::Rollback { reason: a, .. }, Decision::Rollback { reason: b, .. })
            | (Decision::WouldRollback { reason: a, .. }, Decision::WouldRollback { reason: b, .. }) => {
                prop_assert_eq!(a, b)
            }
            (a, b) => prop_assert!(false, "{a} / {b}"),
        }
    }
}

/// The generator reaches rollbacks often enough for the properties above to mean something.
#[test]
fn the_generator_reaches_every_kind_of_decision() {
    let mut runner = TestRunner::deterministic();
    let strategy = input();
    let (mut rollbacks, mut would, mut holds) = (0, 0, 0);
    for _ in 0..2000 {
        let input = strategy.new_tree(&mut runner).expect("generates").current();
        match decide(&input) {
            Decision::Rollback { .. } => rollbacks += 1,
            Decision::WouldRollback { .. } => would += 1,
            Decision::Hold { .. } => holds += 1,
        }
    }
    assert!(
        rollbacks >= 50 && would >= 50 && holds >= 1000,
        "{rollbacks} / {would} / {holds}"
    );
}
