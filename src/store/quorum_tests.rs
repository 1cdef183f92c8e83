use crate::fleet::Quorum;
use crate::probe::{ProbeRecord, Verdict};
use crate::slo::{Counts, Objective, Sli, Span};
use crate::store::Store;
use std::time::Duration;

const M: u64 = 60_000;
const D: u64 = 86_400_000;
const T0: u64 = 20_000 * D;

fn run(location: &str, minute: u64, second: u64, verdict: Verdict) -> ProbeRecord {
    ProbeRecord {
        location: location.into(),
        ..crate::store::test_runs::run(
            "health",
            T0 + minute * M + second * 1_000,
            verdict,
            Duration::from_millis(20),
        )
    }
}

fn objective(quorum: Quorum) -> Objective {
    Objective {
        name: "health".into(),
        probes: vec!["health".into()],
        sli: Sli::Availability,
        target: 0.99,
        period: crate::slo::DEFAULT_PERIOD,
        tiers: crate::slo::default_tiers(),
        min_bad: 0,
        quorum,
    }
}

/// Three locations probing each minute for 20 minutes: `a` fails alone in minutes 2–6, `a` and `b` fail
/// together in minute 10, all three in minute 15.
fn fleet() -> Vec<ProbeRecord> {
    let mut out = Vec::new();
    for minute in 0..20 {
        for (location, fails) in [
            (
                "a",
                (2..7).contains(&minute) || minute == 10 || minute == 15,
            ),
            ("b", minute == 10 || minute == 15),
            ("c", minute == 15),
        ] {
            let verdict = if fails { Verdict::Fail } else { Verdict::Pass };
            out.push(run(location, minute, 10, verdict));
        }
    }
    out
}

/// The counts of `span` for an availability objective with `quorum`.
fn counts(store: &Store, quorum: Quorum, span: Span) -> Counts {
    store
        .objective_counts(&objective(quorum), &[span])
        .expect("counts")[0]
}

#[test]
fn a_failure_at_too_few_locations_spends_no_budget_and_is_counted_as_a_location_problem() {
    crate::store::for_each_backend(|store| {
        store.insert_records(&fleet()).expect("insert");
        // Whole minutes (minute rows), and a window with edges inside minutes (raw runs there).
        for span in [
            Span {
                from_ms: T0,
                to_ms: T0 + 20 * M - 1,
            },
            Span {
                from_ms: T0 + 5_000,
                to_ms: T0 + 19 * M + 30_000,
            },
        ] {
            let majority = counts(&store, Quorum::Majority, span);
            assert_eq!(
                (majority.good, majority.bad, majority.location_problems),
                (60 - 10, 5, 5),
                "a alone: 5 problems; a and b: 2 bad; all three: 3 bad ({span:?})"
            );
            assert_eq!(majority.inconclusive, 5);
            let one = counts(&store, Quorum::AtLeast(1), span);
            assert_eq!((one.bad, one.location_problems), (10, 0));
            let all = counts(&store, Quorum::AtLeast(3), span);
            assert_eq!((all.bad, all.location_problems), (3, 7));
            // `a` left out (its prober unhealthy): its failures are problems, and b and c judge alone.
            let left_out = ["a".to_string()].into();
            let without_a = store
                .objective_counts_leaving_out(&objective(Quorum::Majority), &[span], &left_out)
                .expect("counts")[0];
            assert_eq!((without_a.bad, without_a.location_problems), (2, 8));
        }
    });
}

#[test]
fn with_one_location_the_counts_are_those_without_locations() {
    crate::store::for_each_backend(|store| {
        let runs: Vec<ProbeRecord> = fleet().into_iter().filter(|r| r.location == "a").collect();
        store.insert_records(&runs).expect("insert");
        let span = Span {
            from_ms: T0,
            to_ms: T0 + 20 * M - 1,
        };
        for quorum in [Quorum::Majority, Quorum::AtLeast(1), Quorum::AtLeast(3)] {
            assert_eq!(counts(&store, quorum, span), Counts::new(13, 7, 0));
        }
    });
}

#[test]
fn status_reads_each_location_and_the_store_keeps_them_apart() {
    crate::store::for_each_backend(|store| {
        store.insert_records(&fleet()).expect("insert");
        let span = Span {
            from_ms: T0,
            to_ms: T0 + 20 * M - 1,
        };
        let probes = ["health".to_string()];
        let (across, by_location) = store
            .window_rollups_and_locations(&probes, span, true)
            .expect("read");
        assert_eq!((across["health"].pass, across["health"].fail), (50, 10));
        let per: Vec<(&str, u64, u64)> = by_location["health"]
            .iter()
            .map(|(l, r)| (l.as_str(), r.pass, r.fail))
            .collect();
        assert_eq!(per, [("a", 13, 7), ("b", 18, 2), ("c", 19, 1)]);
        let latest = store
            .latest_run_from("health", Some("c"), span)
            .expect("read")
            .expect("a run");
        assert_eq!(latest.scheduled_at_ms, T0 + 19 * M + 10_000);
        // The same rows after a rebuild from the raw runs.
        store.rebuild_rollups().expect("rebuild");
        let (_, rebuilt) = store
            .window_rollups_and_locations(&probes, span, true)
            .expect("read");
        assert_eq!(rebuilt, by_location);
        assert_eq!(
            store
                .rollup_count(crate::history::Level::Minute)
                .expect("rows"),
            60,
            "a minute row per location"
        );
    });
}
