use super::*;
use crate::history::{Held, Retention, Rollup, Run, Thresholds, roll_up};
use crate::probe::{ProbeRecord, Verdict};
use std::collections::BTreeMap;
use std::time::Duration;

const M: u64 = 60_000;
const H: u64 = 3_600_000;
const D: u64 = 86_400_000;
/// "Now" in these tests: a minute's start plus a bit.
const NOW: u64 = 20_000 * D + 13 * H + 7 * M + 5_000;

fn record(probe: &str, at_ms: u64, verdict: Verdict) -> ProbeRecord {
    let latency = Duration::from_micros(120_000 + at_ms % 1_000);
    crate::store::test_runs::run(probe, at_ms, verdict, latency)
}

fn insert(store: &Store, records: &[ProbeRecord]) {
    for chunk in records.chunks(2_000) {
        store.insert_records(chunk).expect("insert");
    }
}

#[test]
fn pruning_goes_in_batches_and_a_write_between_batches_succeeds() {
    crate::store::for_each_backend(|store| {
        let cut = Retention::default().cutoffs(NOW);
        let mut old = Vec::new();
        // 100,000 passes of `a` from 20 days ago, every 10 s, and a failure every 1,000 runs.
        for i in 0..100_000u64 {
            let verdict = if i % 1_000 == 0 {
                Verdict::Fail
            } else {
                Verdict::Pass
            };
            old.push(record("a", NOW - 20 * D + i * 10_000, verdict));
        }
        // Probes b and c once a minute for 6,000 minutes 35 days ago; ten failures of b 100 days ago.
        for i in 0..6_000u64 {
            old.push(record("b", NOW - 35 * D + i * M, Verdict::Pass));
            old.push(record("c", NOW - 35 * D + i * M, Verdict::Pass));
        }
        for i in 0..10u64 {
            old.push(record("b", NOW - 100 * D + i * M, Verdict::Fail));
        }
        insert(&store, &old);
        let recent: Vec<_> = (0..50u64)
            .map(|i| record("a", NOW - 3 * D + i * M, Verdict::Pass))
            .collect();
        insert(&store, &recent);
        for (at_ms, queries) in [
            (NOW - 3 * H, 1),
            (NOW - 150 * M, 2),
            (NOW - 121 * M, 1),
            (NOW - 30 * M, 1),
        ] {
            store
                .record_spend(&crate::store::BudgetSpend {
                    at_ms,
                    probe: "a".into(),
                    queries,
                })
                .expect("spend");
        }

        let mut pruning = Pruning::new(cut, BATCH);
        let mut written = 0;
        while store.prune_batch(&mut pruning).expect("batch") {
            // A probe's run, written between two batches.
            store
                .insert_record(&record("w", NOW + written * 1_000, Verdict::Pass))
                .expect("a write between batches");
            written += 1;
        }
        let summary = pruning.summary().clone();
        assert_eq!(
            PruneSummary {
                vacuum_steps: 0,
                pages: 0,
                ..summary.clone()
            },
            PruneSummary {
                // Failures 1, passes 23 (111,900 of them), minute rows 3 (12,010), hour rows 1, budget 1.
                batches: 29,
                vacuum_steps: 0,
                runs: 10,
                passes: 111_900,
                rows: [12_010, 0, 0],
                spends: 3,
                pages: 0,
            }
        );
        assert!(summary.vacuum_steps >= 1);
        assert_eq!(
            written,
            u64::from(summary.batches + summary.vacuum_steps) - 1
        );
        assert_eq!(
            store.record_count().expect("count"),
            100 + 50 + written,
            "the failures of `a`, the recent runs and every run written between batches"
        );
        assert_eq!(store.spent_since(0).expect("spent"), 1);
        assert_eq!(
            store.held().expect("held"),
            Held {
                raw_from_ms: cut.raw_ms,
                minute_from_ms: cut.minute_ms,
                hour_from_ms: cut.hour_ms,
                day_from_ms: 0,
            }
        );
        assert_eq!(
            store.complete_from(Tier::Failures).expect("failures"),
            cut.failures_ms
        );
        let again = prune(&Mutex::new(store), cut).expect("again");
        assert_eq!(
            (
                again.batches,
                again.runs,
                again.passes,
                again.rows,
                again.spends
            ),
            (5, 0, 0, [0, 0, 0], 0),
            "a second pruning at the same instant finds nothing"
        );
    });
}

fn file_size(store: &Store, path: &std::path::Path) -> u64 {
    store
        .conn()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    std::fs::metadata(path).expect("size").len()
}

#[test]
fn a_pruned_store_gives_its_pages_back_and_does_not_grow_when_filled_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("oewsprobe.sqlite");
    let store = Store::open(&path).expect("open");
    let fill = |from: u64| -> Vec<ProbeRecord> {
        (0..30_000u64)
            .map(|i| {
                record(
                    ["a", "b", "c"][(i % 3) as usize],
                    from + i * 20_000,
                    Verdict::Pass,
                )
            })
            .collect()
    };
    insert(&store, &fill(NOW - 20 * D));
    let first = file_size(&store, &path);
    let cut = Retention {
        minute: Duration::from_secs(8 * 24 * 3600),
        ..Retention::default()
    }
    .cutoffs(NOW);
    let store = Mutex::new(store);
    let summary = prune(&store, cut).expect("prune");
    let store = store.into_inner().expect("store");
    assert_eq!(store.record_count().expect("count"), 0);
    assert!(
        summary.pages > 0 && summary.vacuum_steps >= 1,
        "{summary:?}"
    );
    let pruned = file_size(&store, &path);
    assert!(
        pruned * 4 < first,
        "the pages of the pruned runs go back: {pruned} of {first} bytes"
    );
    insert(&store, &fill(NOW - D));
    let refilled = file_size(&store, &path);
    assert!(
        refilled <= first + first / 20,
        "filled again to the same amount: {refilled} bytes, first {first}"
    );
}

/// Every rollup row of `probe`.
fn rows(store: &Store, probe: &str) -> BTreeMap<(Level, u64), Rollup> {
    let mut out = BTreeMap::new();
    for level in Level::ALL {
        for (start, row) in store.rollup_rows(probe, level, 0, u64::MAX).expect("rows") {
            out.insert((level, start), row);
        }
    }
    out
}

/// Runs of `a` every 7 s for 10 days before `NOW`, a third of them failed.
fn history() -> Vec<ProbeRecord> {
    (0..(10 * D / 7_000))
        .map(|i| {
            let verdict = if i % 3 == 0 {
                Verdict::Fail
            } else {
                Verdict::Pass
            };
            record("a", NOW - 10 * D + i * 7_000, verdict)
        })
        .collect()
}

/// `store` pruned at `cut` through [`prune`], as the daemon does.
fn pruned(store: Store, cut: crate::history::Cutoffs) -> Store {
    let store = Mutex::new(store);
    prune(&store, cut).expect("prune");
    store.into_inner().expect("store")
}

fn run(r: &ProbeRecord) -> Run {
    Run {
        at_ms: r.scheduled_at_ms,
        verdict: r.verdict,
        latency_us: crate::history::micros(r.latency),
    }
}

#[test]
fn a_rebuild_keeps_the_rollups_of_pruned_runs() {
    crate::store::for_each_backend(|store| {
        let records = history();
        insert(&store, &records);
        let before = rows(&store, "a");
        let cut = Retention {
            raw: Duration::from_secs(3 * 24 * 3600 + 1_800),
            ..Retention::default()
        }
        .cutoffs(NOW);
        let store = pruned(store, cut);
        assert!(store.record_count().expect("count") < records.len() as u64);
        store.rebuild_rollups().expect("rebuild");
        assert_eq!(rows(&store, "a"), before, "rows of pruned runs stay");
        // Tracking a threshold rebuilds from when the raw runs are complete: rows from then track it.
        let tracked: Thresholds = BTreeMap::from([("a".to_string(), vec![120_500])]);
        store.track_latency_thresholds(&tracked).expect("track");
        let held: Vec<Run> = records
            .iter()
            .filter(|r| r.scheduled_at_ms >= cut.raw_ms)
            .map(run)
            .collect();
        let expected = roll_up(held.iter().map(|r| ("a", *r)), &tracked);
        for ((level, start), row) in rows(&store, "a") {
            match expected.get(&(level, "a".to_string(), start)) {
                Some(want) if start >= cut.raw_ms => assert_eq!(&row, want, "{level:?} {start}"),
                _ => assert_eq!(Some(&row), before.get(&(level, start)), "{level:?} {start}"),
            }
        }
    });
}

#[test]
fn a_window_reaching_past_the_raw_runs_counts_whole_minutes_never_the_failures_left() {
    crate::store::for_each_backend(|store| {
        let records = history();
        insert(&store, &records);
        let cut = Retention {
            raw: Duration::from_secs(2 * 24 * 3600),
            minute: Duration::from_secs(5 * 24 * 3600),
            ..Retention::default()
        }
        .cutoffs(NOW);
        let store = pruned(store, cut);
        // Readers of raw runs never see the failures left before the raw runs are complete.
        let raw = store.records_since(0).expect("raw");
        let held = records
            .iter()
            .filter(|r| r.scheduled_at_ms >= cut.raw_ms)
            .count();
        assert_eq!(raw.len(), held);
        assert!(
            store.record_count().expect("count") > held as u64,
            "failures stay"
        );
        let span = crate::slo::Span {
            from_ms: 0,
            to_ms: NOW,
        };
        assert_eq!(store.probe_records_in("a", span).expect("raw"), raw);
        for (from_ms, covered_from) in [
            // Minute rows are held there: the first minute counts whole.
            (
                NOW - 3 * D + 17 * M + 31_000,
                NOW - 3 * D + 17 * M - (NOW % M),
            ),
            // Before the minute rows start, hours count whole.
            (NOW - 7 * D, Level::Hour.start_of(NOW - 7 * D)),
        ] {
            let window = crate::slo::Span {
                from_ms,
                to_ms: NOW,
            };
            let runs: Vec<Run> = records
                .iter()
                .filter(|r| (covered_from..=NOW).contains(&r.scheduled_at_ms))
                .map(run)
                .collect();
            assert_eq!(
                store.window_rollup("a", window).expect("window"),
                Rollup::of(&runs, &[]),
                "{window:?}"
            );
        }
    });
}
