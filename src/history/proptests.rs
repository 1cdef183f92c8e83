//! Property tests: on random histories, windows counted from rollups (and raw runs at their edges) equal the
//! windows counted from raw runs — for availability and for latency thresholds the rollups track; and with
//! tiers pruned, a window counts exactly the runs of what its cover says it covers (never the failures
//! left alone before the raw runs are complete), from rows and runs still held.

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
            let cover = cover(*window, Held::default());
            prop_assert_eq!(cover.covered, Some(*window));
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

/// Tiers as pruning leaves them: four instants in the history, the earliest for day rows, the latest for raw
/// runs (not on bucket starts: `Held::nested` rounds them).
fn held() -> impl Strategy<Value = Held> {
    prop::collection::vec(prop_oneof![Just(0u64), 0..THREE_DAYS], 4).prop_map(|mut at| {
        at.sort_unstable();
        let at = |i: usize| if at[i] == 0 { 0 } else { START + at[i] };
        Held {
            day_from_ms: at(0),
            hour_from_ms: at(1),
            minute_from_ms: at(2),
            raw_from_ms: at(3),
        }
    })
}

proptest! {
    #[test]
    fn pruned_windows_count_what_they_cover_from_what_is_held(
        runs in history(),
        windows in prop::collection::vec(window(), 1..6),
        held in held(),
    ) {
        let rollups = roll_up(
            runs.iter().map(|o| {
                (o.probe.as_str(), Run { at_ms: o.at_ms, verdict: o.verdict, latency_us: micros(o.latency) })
            }),
            &BTreeMap::new(),
        );
        let nested = held.nested();
        // What pruning left: rows from their level's instant on; before the raw runs' instant, failures only.
        let kept_rows = |level: Level| {
            rollups
                .iter()
                .filter(move |((l, p, start), _)| *l == level && p == "a" && *start >= nested.from_ms(Some(level)))
        };
        let kept_runs: Vec<&Observation> = runs
            .iter()
            .filter(|o| o.probe == "a" && (o.at_ms >= held.raw_from_ms || o.verdict != Verdict::Pass))
            .collect();
        for window in &windows {
            let cover = cover(*window, held);
            for &(level, first, last) in &cover.buckets {
                prop_assert!(first >= nested.from_ms(Some(level)) && first <= last, "{:?}", cover);
            }
            for span in &cover.raw {
                prop_assert!(span.from_ms >= nested.raw_from_ms, "{:?}", cover);
            }
            let rows: Vec<&Rollup> = cover
                .buckets
                .iter()
                .flat_map(|&(level, first, last)| {
                    kept_rows(level).filter(move |((_, _, s), _)| (first..=last).contains(s)).map(|(_, r)| r)
                })
                .collect();
            let edges: Vec<Observation> = kept_runs
                .iter()
                .filter(|o| cover.raw.iter().any(|s| s.contains(o.at_ms)))
                .map(|o| (*o).clone())
                .collect();
            let got = window_counts(Sli::Availability, rows, &edges).expect("availability");
            let Some(covered) = cover.covered else {
                prop_assert!(window.to_ms < nested.day_from_ms, "{:?} {:?}", window, nested);
                prop_assert_eq!(got, Counts::default());
                continue;
            };
            // The covered span holds the window's held part, at most a day more at each edge.
            let from = window.from_ms.max(nested.day_from_ms);
            prop_assert!(covered.from_ms <= from && covered.to_ms >= window.to_ms, "{:?} {:?}", window, covered);
            prop_assert!(covered.from_ms >= Level::Day.start_of(from), "{:?} {:?}", window, covered);
            prop_assert!(covered.to_ms < Level::Day.start_of(window.to_ms) + Level::Day.millis());
            let all = count_spans_by(&runs, &[covered], |o| (o.probe == "a").then(|| Sli::Availability.classify(o)));
            prop_assert_eq!(got, all[0], "{:?} {:?}", window, cover);
        }
    }
}
