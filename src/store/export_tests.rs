use super::*;
use crate::probe::Verdict;
use std::time::Duration;

pub(in crate::store) fn record(probe: &str, at_ms: u64, verdict: Verdict) -> ProbeRecord {
    let latency = Duration::from_micros(1_000 + at_ms % 997 * 1_001);
    crate::store::test_runs::run(probe, at_ms, verdict, latency)
}

/// Runs of `a` and `b`, stored out of order (the export sorts them).
fn filled(store: Store) -> Store {
    for (probe, at) in [("b", 3_000), ("a", 1_000), ("a", 3_000), ("b", 2_000)] {
        store
            .insert_record(&record(probe, at, Verdict::Pass))
            .expect("insert");
    }
    store
}

fn exported(store: &Store, filter: &RunFilter) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    store
        .for_each_run(filter, |r| {
            out.push((r.probe, r.scheduled_at_ms));
            Ok::<_, StoreError>(())
        })
        .expect("read");
    out
}

#[test]
fn runs_come_out_oldest_first_filtered_by_probe_and_time() {
    crate::store::for_each_backend(|store| {
        let store = filled(store);
        let all = RunFilter::default();
        let at = |p: &str, ms| (p.to_string(), ms);
        assert_eq!(
            exported(&store, &all),
            [
                at("a", 1_000),
                at("b", 2_000),
                at("b", 3_000),
                at("a", 3_000)
            ],
            "by time, then in the order stored"
        );
        let b = RunFilter {
            probes: vec!["b".into()],
            ..RunFilter::default()
        };
        assert_eq!(exported(&store, &b), [at("b", 2_000), at("b", 3_000)]);
        let window = RunFilter {
            probes: vec!["a".into(), "b".into()],
            since_ms: Some(2_000),
            until_ms: Some(3_000),
        };
        assert_eq!(
            exported(&store, &window),
            [at("b", 2_000)],
            "since is inclusive, until exclusive"
        );
        let past_the_end = RunFilter {
            since_ms: Some(u64::MAX),
            ..RunFilter::default()
        };
        assert_eq!(exported(&store, &past_the_end), []);
    });
}

#[test]
fn the_export_is_one_line_a_run_and_a_failing_writer_stops_it() {
    crate::store::for_each_backend(|store| {
        let store = filled(store);
        let mut out = Vec::new();
        assert_eq!(
            store
                .export(&RunFilter::default(), &mut out)
                .expect("export"),
            4
        );
        let text = String::from_utf8(out).expect("utf-8");
        let first = record("a", 1_000, Verdict::Pass);
        assert_eq!(text.lines().count(), 4);
        assert_eq!(
            text.lines().next(),
            Some(crate::store::export_line(&first).as_str())
        );
        assert!(text.ends_with("}\n"));

        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let error = store
            .export(&RunFilter::default(), &mut Full)
            .expect_err("refused");
        assert_eq!(error.to_string(), "cannot write the export: disk full");
    });
}

#[test]
fn probes_without_runs_are_named() {
    crate::store::for_each_backend(|store| {
        let store = filled(store);
        assert_eq!(
            store
                .probes_without_runs(&["a".into(), "c".into()])
                .expect("read"),
            ["c"]
        );
        assert_eq!(store.probes_with_runs().expect("read"), ["a", "b"]);
    });
}
