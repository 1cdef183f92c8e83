//! Property test: on random histories, windows counted from rollups (and raw runs at their edges) equal the
//! windows counted from raw runs — for availability and for latency thresholds the rollups track.

use super::*;
use crate::probe::Verdict;
use crate::slo::{Span, count_spans_by};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::time::Duration;

const START: u64 = 1_800_000_000_000;
const THREE_DAYS: u64 = 3 * 86_400_000;
/// Thresholds the rollups track; each falls inside a histogram bucket (250 ms in 249.856–250.879 ms).
const TRACKED: [u64; 2] = [250_000, 1_000_000];

fn history() -> impl Strategy<Value = Vec<Observation>> {
    let run = (
        0..THREE_DAYS,
        prop_oneof![Just("a"), Just("b")],
        prop_oneof![
            Just(Verdict::Pass),
            Just(Verdict::Fail),
            Just(Verdict::Inconclusive)
        ],
        // Latencies crowd the thresholds: exactly on them, a microsecond either side, or anywhere.
        prop_oneof![
            prop::sample::select(vec![
                249_999u64, 250_000, 250_001, 999_999, 1_000_000, 1_000_001
            ]),
            0u64..3_000_000,
        ],
    )
        .prop_map(|(at, probe, verdict, latency_us)| Observation {
            at_ms: START + at,
            probe: probe.to_string(),
            verdict,
            class: None,
            latency: Duration::from_micros(latency_us),
        });
    prop::collection::vec(run, 0..400)
}

fn window() -> impl Strategy<Value = Span> {
    (0..THREE_DAYS + 1, 0..THREE_DAYS + 1).prop_map(|(a, b)| Span {
        from_ms: START + a.min(b),
        to_ms: START + a.max(b),
    })
}

fn sli() -> impl Strategy<Value = Sli> {
    prop_oneof![
        Just(Sli::Availability),
        prop::sample::select(TRACKED.to_vec()).prop_map(|us| Sli::Latency {
            threshold: Duration::from_micros(us)
        }),
    ]
}

proptest! {
    #[test]
    fn windows_from_rollups_count_exactly_as_raw_runs(
        runs in history(),
        windows in prop::collection::vec(window(), 1..6),
        sli in sli(),
    ) {
        let thresholds: BTreeMap<String, Vec<u64>> =
            ["a", "b"].map(|p| (p.to_string(), TRACKED.to_vec())).into();
        let rollups = roll_up(
            runs.iter().map(|o| {
                (o.probe.as_str(), Run { at_ms: o.at_ms, verdict: o.verdict, latency_us: micros(o.latency) })
            }),
            &thresholds,
        );
        let raw = count_spans_by(&runs, &windows, |o| (o.probe == "a").then(|| sli.classify(o)));
        for (window, raw) in windows.iter().zip(raw) {
            let cover = cover(*window);
            let rows = cover.buckets.iter().flat_map(|&(level, first, last)| {
                rollups
                    .range((level, "a".to_string(), first)..=(level, "a".to_string(), last))
                    .map(|(_, rollup)| rollup)
            });
            let edges: Vec<Observation> = runs
                .iter()
                .filter(|o| o.probe == "a" && cover.raw.iter().any(|s| s.contains(o.at_ms)))
                .cloned()
                .collect();
            prop_assert_eq!(window_counts(sli, rows, &edges), Some(raw), "{:?}", window);
        }
    }
}
