use super::*;
use crate::store::migrations::migrate_to;
use rusqlite::{Connection, params};
use std::collections::BTreeMap;
use std::time::Duration;

const DAY: u64 = 86_400_000;
const T0: u64 = 20_000 * DAY;
const SECOND_US: u64 = 1_000_000;

fn record(probe: &str, at_ms: u64, verdict: Verdict, latency_us: u64) -> ProbeRecord {
    crate::store::test_runs::run(probe, at_ms, verdict, Duration::from_micros(latency_us))
}

/// Runs over three days, two probes, latencies on both sides of 1 s.
fn history() -> Vec<ProbeRecord> {
    let verdicts = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::Pass,
        Verdict::Inconclusive,
    ];
    (0..600u64)
        .map(|i| {
            let probe = if i % 3 == 0 { "b" } else { "a" };
            let latency = [SECOND_US - 1, SECOND_US, SECOND_US + 1, 250_000][(i % 4) as usize];
            record(
                probe,
                T0 + i * 431_000,
                verdicts[(i % 7 % 4) as usize],
                latency,
            )
        })
        .collect()
}

/// Every rollup row of probes `a` and `b`.
fn rows(store: &Store) -> BTreeMap<(Level, String, u64), Rollup> {
    let mut out = BTreeMap::new();
    for level in Level::ALL {
        for probe in ["a", "b"] {
            for (start, row) in store.rollup_rows(probe, level, 0, u64::MAX).expect("rows") {
                out.insert((level, probe.to_string(), start), row);
            }
        }
    }
    out
}

fn expected(
    records: &[ProbeRecord],
    tracked: &Thresholds,
) -> BTreeMap<(Level, String, u64), Rollup> {
    roll_up(records.iter().map(run_of), tracked)
}

fn one_second_for_a() -> Thresholds {
    BTreeMap::from([("a".to_string(), vec![SECOND_US])])
}

#[test]
fn rollups_written_with_the_runs_equal_the_runs_rolled_up() {
    crate::store::for_each_backend(|store| {
        assert!(
            store
                .track_latency_thresholds(&one_second_for_a())
                .expect("track")
        );
        let records = history();
        // In uneven batches, as the writer commits them, and one at a time.
        let (single, rest) = records.split_at(5);
        for record in single {
            store.insert_record(record).expect("insert");
        }
        for batch in rest.chunks(37) {
            store.insert_records(batch).expect("insert");
        }
        let written = rows(&store);
        assert_eq!(written, expected(&records, &one_second_for_a()));
        assert_eq!(
            store.rollup_count(Level::Day).expect("count"),
            6,
            "two probes over three days"
        );
        let a_day = &written[&(Level::Day, "a".to_string(), T0)];
        assert!(a_day.slow[&SECOND_US] > 0 && a_day.pass > a_day.slow[&SECOND_US]);
        store.rebuild_rollups().expect("rebuild");
        assert_eq!(
            rows(&store),
            written,
            "a rebuild from the raw runs changes nothing"
        );
    });
}

#[test]
fn changing_the_tracked_thresholds_rebuilds_the_slow_counts() {
    crate::store::for_each_backend(|store| {
        let records = history();
        store.insert_records(&records).expect("insert");
        let untracked = rows(&store);
        assert!(untracked.values().all(|r| r.slow.is_empty()));
        let latency = crate::slo::Sli::Latency {
            threshold: Duration::from_secs(1),
        };
        assert_eq!(
            untracked.values().next().expect("a row").counts(latency),
            None
        );

        assert!(
            store
                .track_latency_thresholds(&one_second_for_a())
                .expect("track")
        );
        assert_eq!(
            store.latency_thresholds().expect("read"),
            one_second_for_a()
        );
        assert_eq!(rows(&store), expected(&records, &one_second_for_a()));
        assert!(
            !store
                .track_latency_thresholds(&one_second_for_a())
                .expect("track"),
            "the same thresholds again: no rebuild"
        );
        let none_for_b = BTreeMap::from([
            ("a".to_string(), vec![SECOND_US, SECOND_US]),
            ("b".to_string(), vec![]),
        ]);
        assert!(
            !store.track_latency_thresholds(&none_for_b).expect("track"),
            "duplicates and empty lists change nothing"
        );
    });
}

#[test]
fn a_store_of_the_previous_version_gains_its_rollups_and_keeps_its_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("oewsprobe.sqlite");
    let records = history();
    {
        // A store as the previous version (schema 3) left it: runs, no rollup tables.
        let db = crate::store::db::Db::Sqlite(Connection::open(&path).expect("open"));
        migrate_to(&db, "old", 3).expect("migrate to 3");
        let conn = db.sqlite().expect("SQLite");
        for r in &records {
            conn.execute(
                "INSERT INTO records (probe, target, scheduled_at_ms, verdict, class, status, latency_us, queries, record_json)
                 VALUES (?1, ?2, ?3, ?4, NULL, 200, ?5, 0, '{}')",
                params![r.probe, r.target, r.scheduled_at_ms as i64, r.verdict.as_str(), r.latency.as_micros() as i64],
            )
            .expect("insert");
        }
        let tables: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'rollups'",
                [],
                |r| r.get(0),
            )
            .expect("tables");
        assert_eq!(tables, 0);
    }
    let store = Store::open(&path).expect("open with the new schema");
    assert_eq!(store.schema_version().expect("version"), 11);
    assert_eq!(store.record_count().expect("count"), records.len() as u64);
    assert_eq!(rows(&store), expected(&records, &Thresholds::new()));
    assert_eq!(
        store.rollup_count(Level::Minute).expect("count"),
        records.len() as u64,
        "one run a minute or less: a minute row per run"
    );
}

#[test]
fn an_unreadable_rollup_row_is_an_error_not_a_wrong_count() {
    crate::store::for_each_backend(|store| {
        store.insert_records(&history()).expect("insert");
        store
            .db
            .execute(
                "UPDATE rollups SET latency = ?1 WHERE level = 3",
                crate::store::db::args![vec![0x80u8]],
            )
            .expect("damage");
        let error = store
            .rollup_rows("a", Level::Day, 0, u64::MAX)
            .expect_err("unreadable");
        assert_eq!(
            error.to_string(),
            "store: a rollup row is unreadable; rebuild the rollups from the raw runs"
        );
        store.rebuild_rollups().expect("rebuild");
        assert_eq!(rows(&store), expected(&history(), &Thresholds::new()));
    });
}

#[test]
fn an_availability_objective_over_no_probe_counts_nothing() {
    crate::store::for_each_backend(|store| {
        store.insert_records(&history()).expect("insert");
        let objective = crate::slo::Objective {
            quorum: crate::fleet::Quorum::Majority,
            name: "none".into(),
            probes: vec![],
            sli: crate::slo::Sli::Availability,
            target: 0.99,
            period: crate::slo::DEFAULT_PERIOD,
            tiers: crate::slo::default_tiers(),
            min_bad: crate::slo::DEFAULT_MIN_BAD,
        };
        let now = T0 + 3 * DAY;
        let spans = crate::slo::spans(&objective, now);
        assert_eq!(
            store.objective_counts(&objective, &spans).expect("counts"),
            vec![crate::slo::Counts::default(); spans.len()]
        );
    });
}

#[test]
fn agents_writing_one_postgresql_store_at_once_lose_no_run_from_the_rollups() {
    let url = crate::store::test_postgres::database();
    let target = crate::store::PgTarget::parse(&url).expect("url");
    Store::open_url(&target, None).expect("a new store");
    let records = history();
    // Four agents at once, each every fourth run in batches of 5: they share hour and day rows.
    let agents: Vec<_> = (0..4)
        .map(|agent| {
            let target = target.clone();
            let mine: Vec<ProbeRecord> = records.iter().skip(agent).step_by(4).cloned().collect();
            std::thread::spawn(move || {
                let store = Store::open_url(&target, None).expect("open");
                for batch in mine.chunks(5) {
                    store.insert_records(batch).expect("insert");
                }
            })
        })
        .collect();
    // And one rebuilding the rollups meanwhile (it waits for the writers' locks, and they for its).
    let rebuilder = {
        let target = target.clone();
        std::thread::spawn(move || {
            let store = Store::open_url(&target, None).expect("open");
            for _ in 0..3 {
                store.rebuild_rollups().expect("rebuild");
            }
        })
    };
    for agent in agents {
        agent.join().expect("agent");
    }
    rebuilder.join().expect("rebuilder");
    let store = Store::open_url(&target, None).expect("open");
    assert_eq!(store.record_count().expect("count"), records.len() as u64);
    assert_eq!(rows(&store), expected(&records, &Thresholds::new()));
}
