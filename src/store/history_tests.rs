//! Property test: objectives evaluated from the rollups decide exactly as from the raw runs, on random
//! histories — tracked and untracked latency thresholds, windows of every size, edges anywhere.

use super::*;
use crate::probe::{ProbeRecord, Timings, Verdict};
use crate::slo::{Severity, Sli, Tier, evaluate, evaluate_counts, spans};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::time::Duration;

const START: u64 = 1_800_000_000_000;
const FOUR_DAYS: u64 = 4 * 86_400_000;

fn record((at, probe, verdict, latency_us): (u64, &str, Verdict, u64)) -> ProbeRecord {
    ProbeRecord {
        probe: probe.into(),
        target: "http://127.0.0.1:8000".into(),
        scheduled_at_ms: START + at,
        verdict,
        class: None,
        status: Some(200),
        latency: Duration::from_micros(latency_us),
        timings: Timings::default(),
        body_bytes: 0,
        queries: 0,
        findings: vec![],
        retry_after: None,
    }
}

fn history() -> impl Strategy<Value = Vec<ProbeRecord>> {
    let run = (
        // Runs crowd the last few hours, so that short windows hold some.
        prop_oneof![0..FOUR_DAYS, FOUR_DAYS - 3 * 3_600_000..FOUR_DAYS],
        prop_oneof![Just("a"), Just("b"), Just("c")],
        prop_oneof![
            Just(Verdict::Pass),
            Just(Verdict::Fail),
            Just(Verdict::Inconclusive)
        ],
        prop_oneof![
            prop::sample::select(vec![249_999u64, 250_000, 250_001, 1_000_000, 1_000_001]),
            0u64..2_000_000,
        ],
    )
        .prop_map(record);
    prop::collection::vec(run, 0..250)
}

fn objective(name: &str, probes: &[&str], sli: Sli, period_h: u64) -> Objective {
    let d = |m: u64| Duration::from_secs(60 * m);
    Objective {
        name: name.into(),
        probes: probes.iter().map(|p| p.to_string()).collect(),
        sli,
        target: 0.9,
        period: d(60 * period_h),
        tiers: vec![
            Tier::new("fast", Severity::Page, d(10), d(1), 2.0),
            Tier::new("slow", Severity::Ticket, d(6 * 60), d(90), 1.0),
        ],
        min_bad: 1,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn objectives_from_rollups_decide_as_from_raw_runs(
        records in history(),
        now_offset in 0..FOUR_DAYS + 3_600_000,
        period_h in 1u64..100,
    ) {
        let store = Store::in_memory().expect("store");
        // 250 ms is tracked for a and b; 1 s for nobody (read from raw runs instead).
        let tracked = BTreeMap::from([
            ("a".to_string(), vec![250_000]),
            ("b".to_string(), vec![250_000]),
        ]);
        store.track_latency_thresholds(&tracked).expect("track");
        for batch in records.chunks(40) {
            store.insert_records(batch).expect("insert");
        }
        let fast = |ms| Sli::Latency { threshold: Duration::from_millis(ms) };
        let objectives = [
            objective("up", &["a", "b"], Sli::Availability, period_h),
            objective("fast-a", &["a"], fast(250), period_h),
            objective("fast-ac", &["a", "c"], fast(250), period_h),
            objective("second-a", &["a"], fast(1_000), period_h),
        ];
        let now = START + now_offset;
        let observations: Vec<_> =
            store.records_since(0).expect("raw").iter().map(|r| r.observation()).collect();
        // One probe's window as one rollup: the same counts and latency distribution as its raw runs.
        let window = Span::ending_at(now, Duration::from_secs(3600 * period_h));
        let raw_runs: Vec<Run> = records
            .iter()
            .filter(|r| r.probe == "a" && window.contains(r.scheduled_at_ms))
            .map(|r| Run { at_ms: r.scheduled_at_ms, verdict: r.verdict, latency_us: r.latency.as_micros() as u64 })
            .collect();
        prop_assert_eq!(
            store.window_rollup("a", window).expect("window"),
            Rollup::of(&raw_runs, &[250_000])
        );
        for o in &objectives {
            let counts = store.objective_counts(o, &spans(o, now)).expect("counts");
            prop_assert_eq!(
                evaluate_counts(o, &counts, &[], now),
                evaluate(o, &observations, &[], now),
                "{}", o.name
            );
        }
    }
}
