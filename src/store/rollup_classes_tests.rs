use super::*;
use crate::history::Retention;
use crate::probe::Verdict;
use crate::store::Pruning;
use std::time::Duration;

const M: u64 = 60_000;
const D: u64 = 86_400_000;
const T0: u64 = 20_000 * D;

/// A run of `probe` at `at_ms` with `verdict` and `class`.
fn run(probe: &str, at_ms: u64, verdict: Verdict, class: Option<FailureClass>) -> ProbeRecord {
    let mut r = crate::store::test_runs::run(probe, at_ms, verdict, Duration::from_millis(90));
    r.class = class;
    r
}

/// Two probes over six hours, one run every 37 s: passes, and failures and inconclusive runs of four classes.
fn history() -> Vec<ProbeRecord> {
    let kinds = [
        (Verdict::Pass, None),
        (Verdict::Fail, Some(FailureClass::Timeout)),
        (Verdict::Pass, None),
        (Verdict::Fail, Some(FailureClass::ProxyBadGateway)),
        (Verdict::Inconclusive, Some(FailureClass::Throttled)),
        (Verdict::Pass, None),
        (Verdict::Fail, Some(FailureClass::Timeout)),
        (Verdict::Inconclusive, Some(FailureClass::Budget)),
    ];
    (0..584u64)
        .map(|i| {
            let (verdict, class) = kinds[(i % 11 % 8) as usize];
            run(
                if i % 3 == 0 { "b" } else { "a" },
                T0 + i * 37_000,
                verdict,
                class,
            )
        })
        .collect()
}

fn probes() -> Vec<String> {
    vec!["a".into(), "b".into()]
}

/// Bars of `width_ms` from `from_ms` (the last one ending at `to_ms`).
fn bars(from_ms: u64, to_ms: u64, width_ms: u64) -> Vec<Span> {
    (0..)
        .map(|i| from_ms + i * width_ms)
        .take_while(|&f| f <= to_ms)
        .map(|f| Span {
            from_ms: f,
            to_ms: (f + width_ms - 1).min(to_ms),
        })
        .collect()
}

/// What each bar's classes are, counted from the runs themselves.
fn expected(records: &[ProbeRecord], bars: &[Span]) -> BTreeMap<String, Vec<ClassCounts>> {
    let mut out: BTreeMap<String, Vec<ClassCounts>> = probes()
        .into_iter()
        .map(|p| (p, vec![ClassCounts::new(); bars.len()]))
        .collect();
    for r in records.iter().filter(|r| r.verdict != Verdict::Pass) {
        let (Some(class), Some(i)) = (
            r.class,
            bars.iter()
                .position(|b| (b.from_ms..=b.to_ms).contains(&r.scheduled_at_ms)),
        ) else {
            continue;
        };
        *out.get_mut(&r.probe).expect("probe")[i]
            .entry(class)
            .or_insert(0) += 1;
    }
    out
}

/// Every count the table holds.
fn table(store: &Store) -> Vec<(i64, String, i64, String, i64)> {
    store
        .db
        .query_map(
            "SELECT level, probe, start_ms, class, runs FROM rollup_classes ORDER BY 1, 2, 3, 4",
            &[],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .expect("rows")
}

#[test]
fn each_bar_counts_its_runs_classes_from_rows_and_from_the_raw_runs_at_its_edges() {
    crate::store::for_each_backend(|store| {
        let records = history();
        store.insert_records(&records).expect("insert");
        let end = T0 + 6 * 3_600_000;
        // Bars of a minute, of 25 minutes from an instant off the minute (edges from raw runs), of 2 hours.
        for bars in [
            bars(T0, T0 + 90 * M, M),
            bars(T0 + 29_500, end, 25 * M),
            bars(T0 - 3_600_000, end, 2 * 3_600_000),
        ] {
            let classes = store.bar_classes(&probes(), &bars).expect("classes");
            assert_eq!(classes, expected(&records, &bars), "{} bars", bars.len());
            let counts = store.bar_counts(&probes(), &bars).expect("counts");
            for probe in probes() {
                for (bar, classes) in counts[&probe].iter().zip(&classes[&probe]) {
                    assert_eq!(
                        crate::history::unclassified(bar.fail + bar.inconclusive, classes),
                        0,
                        "every run that did not pass has its class counted"
                    );
                }
            }
        }
        assert!(
            expected(&records, &bars(T0, end, 3_600_000))["a"][0].len() == 4,
            "the history has four classes in an hour"
        );
    });
}

#[test]
fn the_migration_and_a_rebuild_count_what_the_writes_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("oewsprobe.sqlite");
    let written = {
        let store = Store::open(&path).expect("open");
        store.insert_records(&history()).expect("insert");
        table(&store)
    };
    assert!(written.len() > 100, "{} counts", written.len());
    {
        let store = Store::open(&path).expect("open");
        // The store as schema 7 left it: no counts (and none of what later migrations add: locations, leases).
        store
            .conn()
            .execute_batch(
                "DROP TABLE rollup_classes; DROP INDEX records_by_probe_location;
                 ALTER TABLE records DROP COLUMN location; DROP TABLE leases;
                 ALTER TABLE outbox DROP COLUMN claimed_generation; PRAGMA user_version = 7;",
            )
            .expect("back to schema 7");
    }
    let store = Store::open(&path).expect("open with the latest schema");
    assert_eq!(store.schema_version().expect("version"), 11);
    assert_eq!(table(&store), written, "counted from the raw runs");
    store.rebuild_rollups().expect("rebuild");
    assert_eq!(table(&store), written, "counted again");
}

#[test]
fn counts_go_with_their_rollup_rows_when_pruned() {
    crate::store::for_each_backend(|store| {
        let now = T0 + 40 * D;
        let cut = Retention::default().cutoffs(now);
        // A failure a minute for two hours 35 days ago (past the minute rows' retention) and one today.
        let mut records: Vec<ProbeRecord> = (0..120)
            .map(|i| {
                run(
                    "a",
                    now - 35 * D + i * M,
                    Verdict::Fail,
                    Some(FailureClass::Dns),
                )
            })
            .collect();
        records.push(run("a", now - M, Verdict::Fail, Some(FailureClass::Dns)));
        store.insert_records(&records).expect("insert");
        let mut pruning = Pruning::new(cut, 50);
        while store.prune_batch(&mut pruning).expect("prune") {}
        let minute_rows = |before: bool| -> i64 {
            store
                .db
                .query_row(
                    "SELECT COUNT(*) FROM rollup_classes WHERE level = 1 AND (start_ms < ?1) = ?2",
                    crate::store::db::args![cut.minute_ms as i64, before],
                    |r| r.get(0),
                )
                .expect("count")
        };
        assert!(cut.minute_ms > now - 35 * D + 2 * 3_600_000, "{cut:?}");
        assert_eq!((minute_rows(true), minute_rows(false)), (0, 1));
        let bars = bars(now - 35 * D, now - 35 * D + 2 * 3_600_000 - 1, 3_600_000);
        let classes = store
            .bar_classes(&["a".to_string()], &bars)
            .expect("classes");
        assert_eq!(
            classes["a"],
            vec![ClassCounts::from([(FailureClass::Dns, 60)]); 2],
            "the hour rows answer for the pruned minutes"
        );
    });
}
