//! Tables over a manual clock: windows, burn rates, tier breaches with and without the minimum-failures
//! guard, the tier state machine, and the error budget.

use super::*;
use crate::probe::{FailureClass, Verdict};
use std::time::Duration;

const MINUTE: u64 = 60_000;
const HOUR: u64 = 60 * MINUTE;
/// An arbitrary "now", far from the epoch.
const NOW: u64 = 1_800_000_000_000;

/// Runs of `probe` from a compact script: `p` pass, `f` fail, `s` slow pass (45 s), `i` inconclusive
/// (throttled), one every `every_ms`, the last one at `last_ms`.
pub(super) fn runs(probe: &str, script: &str, last_ms: u64, every_ms: u64) -> Vec<Observation> {
    let n = script.len() as u64;
    script
        .chars()
        .enumerate()
        .map(|(i, c)| {
            let (verdict, class, latency) = match c {
                'p' => (Verdict::Pass, None, 2),
                's' => (Verdict::Pass, None, 45),
                'f' => (Verdict::Fail, Some(FailureClass::ServerError), 1),
                'i' => (Verdict::Inconclusive, Some(FailureClass::Throttled), 1),
                other => panic!("unknown run {other:?}"),
            };
            Observation {
                at_ms: last_ms - (n - 1 - i as u64) * every_ms,
                probe: probe.to_string(),
                verdict,
                class,
                latency: Duration::from_secs(latency),
            }
        })
        .collect()
}

pub(super) fn objective(sli: Sli, target: f64, min_bad: u32) -> Objective {
    Objective {
        quorum: crate::fleet::Quorum::Majority,
        name: "queries".into(),
        probes: vec!["q".into()],
        sli,
        target,
        period: Duration::from_secs(30 * 24 * 3600),
        tiers: default_tiers(),
        min_bad,
    }
}

fn count(objective: &Objective, observations: &[Observation], window_ms: u64) -> Counts {
    let span = Span::ending_at(NOW, Duration::from_millis(window_ms));
    count_spans(objective, observations, &[span])[0]
}

#[test]
fn windows_are_half_open_and_ignore_the_future_and_other_probes() {
    let o = objective(Sli::Availability, 0.99, 3);
    let mut observations = runs("q", "fff", NOW + 1, 1); // at NOW-1, NOW, NOW+1 (future)
    observations.extend(runs("q", "ff", NOW - HOUR + 1, 1)); // at NOW-HOUR (out), NOW-HOUR+1 (in)
    observations.extend(runs("other", "ffff", NOW, MINUTE));
    assert_eq!(count(&o, &observations, HOUR), Counts::new(0, 3, 0));
}

/// Label, SLI, target, script (one run a minute up to now), counts in the hour, burn rate.
type BurnCase = (&'static str, Sli, f64, &'static str, Counts, Option<f64>);

#[test]
fn burn_rates() {
    let availability = Sli::Availability;
    let latency = Sli::Latency {
        threshold: Duration::from_secs(30),
    };
    #[rustfmt::skip]
    let cases: &[BurnCase] = &[
        ("no runs", availability, 0.99, "", Counts::new(0, 0, 0), None),
        ("only inconclusive", availability, 0.99, "iii", Counts::new(0, 0, 3), None),
        ("all good", availability, 0.99, "pppi", Counts::new(3, 0, 1), Some(0.0)),
        ("one in four", availability, 0.99, "pfpp", Counts::new(3, 1, 0), Some(25.0)),
        ("inconclusive never dilutes", availability, 0.99, "pfppiiii", Counts::new(3, 1, 4), Some(25.0)),
        ("all bad at 0.9", availability, 0.9, "ff", Counts::new(0, 2, 0), Some(10.0)),
        ("slow pass is good for availability", availability, 0.9, "ss", Counts::new(2, 0, 0), Some(0.0)),
        ("slow pass is bad for latency", latency, 0.9, "sp", Counts::new(1, 1, 0), Some(5.0)),
        ("fail is bad for latency", latency, 0.9, "fp", Counts::new(1, 1, 0), Some(5.0)),
        ("inconclusive excluded from latency", latency, 0.9, "pi", Counts::new(1, 0, 1), Some(0.0)),
    ];
    for (label, sli, target, script, counts, expected) in cases {
        let o = objective(*sli, *target, 3);
        let observed = count(&o, &runs("q", script, NOW, MINUTE), HOUR);
        assert_eq!(observed, *counts, "{label}");
        let rate = burn_rate(&observed, *target);
        match (rate, expected) {
            (None, None) => {}
            (Some(r), Some(e)) => assert!((r - e).abs() < 1e-9, "{label}: {r} != {e}"),
            _ => panic!("{label}: {rate:?} != {expected:?}"),
        }
    }
}

#[test]
fn latency_threshold_is_inclusive() {
    let sli = Sli::Latency {
        threshold: Duration::from_secs(2),
    };
    let at_threshold = &runs("q", "p", NOW, 1)[0]; // 2 s
    assert_eq!(sli.classify(at_threshold), Sample::Good);
}

#[test]
fn exactly_at_the_threshold_burns() {
    let stat = WindowStat::new(Duration::from_secs(3600), Counts::new(856, 144, 0), 0.99);
    assert!(stat.burns_at(14.4), "{:?}", stat.burn_rate);
    let below = WindowStat::new(Duration::from_secs(3600), Counts::new(857, 143, 0), 0.99);
    assert!(!below.burns_at(14.4));
}

/// The 1 h / 5 m page tier (14.4×) at target 0.99: one run a minute (five in the short window), or a query
/// probe's four an hour, where the minimum-failures guard matters.
#[test]
fn page_tier_breaches_need_both_windows_and_the_guard() {
    let p = |n: usize| "p".repeat(n);
    let q = 15 * MINUTE;
    #[rustfmt::skip]
    let cases: Vec<(&str, String, u64, u32, bool)> = vec![
        // script: oldest first, the last run at NOW.
        ("outage: 10 bad of 60, short all bad", p(50) + "ffffffffff", MINUTE, 3, true),
        ("long below the rate: 8 bad of 60", p(52) + "ffffffff", MINUTE, 3, false),
        ("recovered: short window clean", p(45) + "ffffffffff" + &p(5), MINUTE, 3, false),
        ("short window only inconclusive", p(45) + "ffffffffff" + "iiiii", MINUTE, 0, false),
        ("one failure at low traffic, guard 3", "pppf".into(), q, 3, false),
        ("one failure at low traffic, guard 1", "pppf".into(), q, 1, true),
        ("one failure at low traffic, guard off", "pppf".into(), q, 0, true),
        ("three failures at low traffic, guard 3", "pfff".into(), q, 3, true),
        ("no data", String::new(), MINUTE, 0, false),
    ];
    for (label, script, every, min_bad, expected) in cases {
        let o = objective(Sli::Availability, 0.99, min_bad);
        let evaluation = evaluate(&o, &runs("q", &script, NOW, every), &[], NOW);
        let page = &evaluation.tiers[0];
        assert_eq!(page.tier.name, "page-1h");
        assert_eq!(page.breached(), expected, "{label}: {page:?}");
    }
}

#[test]
fn long_window_below_the_rate_holds_even_when_the_short_one_burns() {
    // 1 bad of 60 runs in the hour (1.7×) but 1 of 5 in the short window (20×).
    let o = objective(Sli::Availability, 0.99, 0);
    let evaluation = evaluate(
        &o,
        &runs("q", &format!("{}f", "p".repeat(59)), NOW, MINUTE),
        &[],
        NOW,
    );
    let page = &evaluation.tiers[0];
    assert!(page.short.burns_at(14.4));
    assert!(!page.long.burns_at(14.4));
    assert!(!page.breached());
}

#[test]
fn step_remembers_when_a_breach_began() {
    #[rustfmt::skip]
    let script: &[(u64, bool, Option<u64>)] = &[
        (1_000, false, None),
        (2_000, true, Some(2_000)),
        (3_000, true, Some(2_000)),
        (4_000, false, None),
        (5_000, true, Some(5_000)),
        (4_500, true, Some(4_500)), // the clock stepped back: the start moves back with it
        (6_000, true, Some(4_500)),
    ];
    let mut state = TierState::default();
    for (now, breached, since) in script {
        state = step(state, *breached, *now);
        assert_eq!(state.breached_since, *since, "at {now}");
        assert_eq!(state.last_evaluated, *now);
    }
}

#[test]
fn evaluation_over_a_manual_clock_dates_the_breach() {
    // One run a minute, all passing, then failing from NOW onwards; evaluated every minute.
    let o = objective(Sli::Availability, 0.99, 3);
    let mut observations = runs("q", &"p".repeat(60), NOW - MINUTE, MINUTE);
    let mut states: Vec<TierState> = Vec::new();
    let mut began = None;
    for minute in 0..10 {
        let now = NOW + minute * MINUTE;
        observations.extend(runs("q", "f", now, 1));
        let evaluation = evaluate(&o, &observations, &states, now);
        states = evaluation.tiers.iter().map(|t| t.state).collect();
        if began.is_none() && evaluation.tiers[0].breached() {
            began = Some(minute);
        }
    }
    // 14.4 % of ~60 runs is 9 bad runs: the hour window crosses the rate at the ninth failure.
    assert_eq!(began, Some(8));
    assert_eq!(states[0].breached_since, Some(NOW + 8 * MINUTE));
    assert_eq!(
        states[1].breached_since,
        Some(NOW + 3 * MINUTE),
        "6× over 6h: 4 of 64"
    );
    assert_eq!(
        states[2].breached_since,
        Some(NOW + 2 * MINUTE),
        "1× over 3days: held back by min_bad 3"
    );
    // Recovery: five passing minutes clear the short window, and the state with it.
    for minute in 10..15 {
        observations.extend(runs("q", "p", NOW + minute * MINUTE, 1));
    }
    let evaluation = evaluate(&o, &observations, &states, NOW + 14 * MINUTE);
    assert_eq!(evaluation.tiers[0].state.breached_since, None);
}

#[test]
fn error_budget() {
    let period = Duration::from_secs(30 * 24 * 3600);
    #[rustfmt::skip]
    let cases: &[(&str, Counts, f64, Option<f64>)] = &[
        ("untouched", Counts::new(1000, 0, 0), 10.0, Some(1.0)),
        ("half spent", Counts::new(995, 5, 0), 10.0, Some(0.5)),
        ("exactly spent", Counts::new(990, 10, 0), 10.0, Some(0.0)),
        ("overspent twice", Counts::new(980, 20, 7), 10.0, Some(-1.0)),
        ("only inconclusive", Counts::new(0, 0, 12), 0.0, None),
        ("empty", Counts::new(0, 0, 0), 0.0, None),
    ];
    for (label, counts, allowed, remaining) in cases {
        let budget = ErrorBudget::new(period, *counts, 0.99);
        assert!(
            (budget.allowed_bad - allowed).abs() < 1e-9,
            "{label}: {budget:?}"
        );
        match (budget.remaining, remaining) {
            (None, None) => {}
            (Some(r), Some(e)) => assert!((r - e).abs() < 1e-9, "{label}: {r} != {e}"),
            (r, e) => panic!("{label}: {r:?} != {e:?}"),
        }
    }
}

#[test]
fn evaluation_reports_the_budget_over_the_period() {
    let o = objective(Sli::Availability, 0.99, 3);
    let mut observations = runs("q", &format!("{}f", "p".repeat(199)), NOW, MINUTE);
    observations.extend(runs("q", "ffff", NOW - 31 * 24 * HOUR, MINUTE)); // before the period
    let evaluation = evaluate(&o, &observations, &[], NOW);
    assert_eq!(evaluation.budget.counts, Counts::new(199, 1, 0));
    assert_eq!(
        evaluation.budget.remaining.map(number),
        Some("0.5".to_string())
    );
}

#[test]
fn numbers_for_people() {
    assert_eq!(number(14.4), "14.4");
    assert_eq!(number(1.0 / (1.0 - 0.99)), "100");
    assert_eq!(number(1.0 / 3.0), "0.333");
    assert_eq!(number(-0.0001), "0");
    assert_eq!(span_text(Duration::from_secs(72 * 3600)), "3days");
}
