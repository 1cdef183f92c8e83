//! Property test: every reader decides from the rollups exactly as from the raw runs, on random histories —
//! tracked and untracked latency thresholds, windows of every size, edges anywhere: SLO evaluations, the
//! release watch's view, `status`'s per-probe figures, the latency figures of alert emails.

use crate::history::{Rollup, Run};
use crate::probe::{ProbeRecord, Timings, Verdict};
use crate::release::{ObjectiveWatch, Release, WatchSettings};
use crate::slo::{
    Objective, Severity, Sli, Span, Tier, TierState, evaluate, evaluate_counts, spans,
};
use crate::store::Store;
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

const START: u64 = 1_800_000_000_000;
const FOUR_DAYS: u64 = 4 * 86_400_000;

fn record((at, probe, verdict, latency_us): (u64, &str, Verdict, u64)) -> ProbeRecord {
    ProbeRecord {
        location: String::new(),
        latency_percentiles: None,
        probe: probe.into(),
        target: "http://127.0.0.1:8000".into(),
        request: None,
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
        known_drift: Vec::new(),
        tls: None,
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

/// [`history`], each run from one of three locations (`""`: before locations were kept).
fn located_history() -> impl Strategy<Value = Vec<ProbeRecord>> {
    let places = prop::sample::select(vec!["", "eu-west", "us-east"]);
    (history(), prop::collection::vec(places, 250)).prop_map(|(mut records, places)| {
        for (record, place) in records.iter_mut().zip(places) {
            record.location = place.to_string();
        }
        records
    })
}

fn objective(name: &str, probes: &[&str], sli: Sli, period_h: u64) -> Objective {
    let d = |m: u64| Duration::from_secs(60 * m);
    Objective {
        quorum: crate::fleet::Quorum::Majority,
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
        decide_alike(Store::in_memory().expect("store"), &records, now_offset, period_h)?;
    }
}

proptest! {
    // Fewer cases: each makes a database of its own on the test PostgreSQL server.
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn objectives_from_rollups_decide_as_from_raw_runs_on_postgresql(
        records in history(),
        now_offset in 0..FOUR_DAYS + 3_600_000,
        period_h in 1u64..100,
    ) {
        let url = crate::store::test_postgres::database();
        let target = crate::store::db::PgTarget::parse(&url).expect("url");
        decide_alike(Store::open_url(&target, None).expect("store"), &records, now_offset, period_h)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Runs from several locations: the readers sum them as the raw runs (a quorum of one location counts
    /// every failure), and a majority quorum only moves failed runs to location problems, never adds or
    /// loses a run.
    #[test]
    fn runs_from_several_locations_are_read_as_the_raw_runs_and_the_quorum_only_moves_failures(
        records in located_history(),
        now_offset in 0..FOUR_DAYS + 3_600_000,
        period_h in 1u64..100,
    ) {
        let any = |mut o: Objective| {
            o.quorum = crate::fleet::Quorum::AtLeast(1);
            o
        };
        let store = Store::in_memory().expect("store");
        let (store, objectives, now, observations) = prepared(store, &records, period_h, now_offset);
        for o in objectives.into_iter().map(any) {
            let spans = spans(&o, now);
            let counts = store.objective_counts(&o, &spans).expect("counts");
            prop_assert_eq!(evaluate_counts(&o, &counts, &[], now), evaluate(&o, &observations, &[], now));
            let majority = Objective { quorum: crate::fleet::Quorum::Majority, ..o.clone() };
            let judged = store.objective_counts(&majority, &spans).expect("counts");
            for (all, judged) in counts.iter().zip(&judged) {
                prop_assert_eq!(judged.good, all.good);
                prop_assert_eq!(judged.bad + judged.location_problems, all.bad);
                prop_assert_eq!(judged.inconclusive, all.inconclusive + judged.location_problems);
            }
        }
    }
}

/// Every reader decides from `store`'s rollups, filled with `records`, as from the raw runs.
fn decide_alike(
    store: Store,
    records: &[ProbeRecord],
    now_offset: u64,
    period_h: u64,
) -> Result<(), TestCaseError> {
    let (store, objectives, now, observations) = prepared(store, records, period_h, now_offset);
    // One probe's window as one rollup: the same counts and latency distribution as its raw runs.
    let window = Span::ending_at(now, Duration::from_secs(3600 * period_h));
    let raw_runs: Vec<Run> = records
        .iter()
        .filter(|r| r.probe == "a" && window.contains(r.scheduled_at_ms))
        .map(|r| Run {
            at_ms: r.scheduled_at_ms,
            verdict: r.verdict,
            latency_us: r.latency.as_micros() as u64,
        })
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
            "{}",
            o.name
        );
    }
    Ok(())
}

/// `store` filled with `records`, the objectives of `period_h`, the instant `now_offset` after the start,
/// and the stored runs as the SLO math sees them.
fn prepared(
    store: Store,
    records: &[ProbeRecord],
    period_h: u64,
    now_offset: u64,
) -> (Store, Vec<Objective>, u64, Vec<crate::slo::Observation>) {
    let store = filled(store, records);
    let observations = store
        .records_since(0)
        .expect("raw")
        .iter()
        .map(|r| r.observation())
        .collect();
    (
        store,
        objectives(period_h),
        START + now_offset,
        observations,
    )
}

/// A store holding `records`, with 250 ms tracked for a and b (1 s for nobody: read from raw runs instead).
fn filled(store: Store, records: &[ProbeRecord]) -> Store {
    let tracked = BTreeMap::from([
        ("a".to_string(), vec![250_000]),
        ("b".to_string(), vec![250_000]),
    ]);
    store.track_latency_thresholds(&tracked).expect("track");
    for batch in records.chunks(40) {
        store.insert_records(batch).expect("insert");
    }
    store
}

fn objectives(period_h: u64) -> Vec<Objective> {
    let fast = |ms| Sli::Latency {
        threshold: Duration::from_millis(ms),
    };
    vec![
        objective("up", &["a", "b"], Sli::Availability, period_h),
        objective("fast-a", &["a"], fast(250), period_h),
        objective("fast-ac", &["a", "c"], fast(250), period_h),
        objective("second-a", &["a"], fast(1_000), period_h),
    ]
}

fn run_of(r: &ProbeRecord) -> Run {
    Run {
        at_ms: r.scheduled_at_ms,
        verdict: r.verdict,
        latency_us: r.latency.as_micros() as u64,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn the_read_path_answers_every_reader_as_the_raw_runs_would(
        records in history(),
        case in read_case(),
    ) {
        read_path_alike(Store::in_memory().expect("store"), &records, case)?;
    }
}

proptest! {
    // Fewer cases: each makes a database of its own on the test PostgreSQL server.
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn the_read_path_answers_every_reader_as_the_raw_runs_would_on_postgresql(
        records in history(),
        case in read_case(),
    ) {
        let url = crate::store::test_postgres::database();
        let target = crate::store::db::PgTarget::parse(&url).expect("url");
        read_path_alike(Store::open_url(&target, None).expect("store"), &records, case)?;
    }
}

fn read_case() -> impl Strategy<Value = ReadCase> {
    (
        0..FOUR_DAYS + 3_600_000,
        1u64..100,
        0u64..600,
        0u64..120,
        1u64..1_000,
        1u64..6_000,
        proptest::option::of(0..FOUR_DAYS),
    )
}

/// The generated figures of one case of the read path's property, besides its runs: now (after the
/// start), the objectives' period in hours, the release (minutes ago), the warm-up, baseline and window (in
/// minutes), and since when the tiers were breached before.
type ReadCase = (u64, u64, u64, u64, u64, u64, Option<u64>);

/// Every reader answers from `store`, filled with `records`, as the raw runs would.
fn read_path_alike(
    store: Store,
    records: &[ProbeRecord],
    case: ReadCase,
) -> Result<(), TestCaseError> {
    let (now_offset, period_h, release_ago_m, warmup_m, baseline_m, window_m, breached_since) =
        case;
    let (store, objectives, now, observations) = prepared(store, records, period_h, now_offset);
    // The daemon's tier states from an earlier evaluation, stepped on from both sources alike.
    let previous: HashMap<String, Vec<TierState>> = objectives
        .iter()
        .map(|o| {
            let state = TierState {
                breached_since: breached_since.map(|b| START + b),
                last_evaluated: 0,
            };
            (o.name.clone(), vec![state; o.tiers.len()])
        })
        .collect();
    let evaluations =
        super::evaluate_objectives(&store, &objectives, &previous, now).expect("evaluate");
    for (o, got) in objectives.iter().zip(&evaluations) {
        prop_assert_eq!(
            got,
            &evaluate(o, &observations, &previous[&o.name], now),
            "{}",
            o.name
        );
    }

    let release = Release {
        version: "v2".into(),
        rollback_to: "v1".into(),
        started_at_ms: now.saturating_sub(release_ago_m * 60_000),
        until_ms: now + 3_600_000,
    };
    let settings = WatchSettings {
        warmup: Duration::from_secs(60 * warmup_m),
        baseline_window: Duration::from_secs(60 * baseline_m),
        ..WatchSettings::default()
    };
    let watches = super::objective_watches(
        &store,
        &objectives,
        &previous,
        &release,
        &settings,
        &Default::default(),
        now,
    )
    .expect("watch");
    for (o, got) in objectives.iter().zip(&watches) {
        let raw = ObjectiveWatch::observe(
            o,
            &observations,
            &previous[&o.name],
            &release,
            &settings,
            now,
        );
        prop_assert_eq!(got, &raw, "{}", o.name);
    }

    let names: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
    let window = Span::ending_at(now, Duration::from_secs(60 * window_m));
    let status = super::status(&store, &names, 10, 60_000 * window_m, now).expect("status");
    let latency = super::latency_percentiles(&store, &names, window).expect("latency");
    for (name, got) in names.iter().zip(&status.probes) {
        let mine: Vec<&ProbeRecord> = records
            .iter()
            .filter(|r| &r.probe == name && window.contains(r.scheduled_at_ms))
            .collect();
        let raw = Rollup::of(&mine.iter().map(|r| run_of(r)).collect::<Vec<_>>(), &[]);
        let count = |v: Verdict| mine.iter().filter(|r| r.verdict == v).count() as u64;
        prop_assert_eq!(
            (got.runs, got.passed, got.failed, got.inconclusive),
            (
                mine.len() as u64,
                count(Verdict::Pass),
                count(Verdict::Fail),
                count(Verdict::Inconclusive)
            )
        );
        let ms = |q| raw.latency.quantile(q).map(|us| us as f64 / 1000.0);
        prop_assert_eq!(
            (got.latency_p50_ms, got.latency_p95_ms, got.latency_p99_ms),
            (ms(0.5), ms(0.95), ms(0.99))
        );
        prop_assert_eq!(latency[name], (ms(0.5), ms(0.95)));
        // The latest run: the last inserted among the latest scheduled (records keep insertion order).
        let last = mine.iter().max_by_key(|r| r.scheduled_at_ms);
        prop_assert_eq!(got.last_at_ms, last.map(|r| r.scheduled_at_ms));
        prop_assert_eq!(got.last_verdict, last.map(|r| r.verdict));
    }
    Ok(())
}
