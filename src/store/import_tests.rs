use super::*;
use crate::history::{Level, Rollup};
use crate::probe::Verdict;
use crate::store::RunFilter;
use crate::store::export::tests::record;
use std::collections::BTreeMap;

/// 3 probes, a run every 7 minutes for two days, every verdict.
fn history() -> Vec<ProbeRecord> {
    let verdicts = [Verdict::Pass, Verdict::Fail, Verdict::Inconclusive];
    (0..3 * 412u64)
        .map(|i| {
            let probe = ["a", "b", "c"][(i % 3) as usize];
            record(
                probe,
                1_790_000_000_000 + i * 140_000,
                verdicts[(i % 5 % 3) as usize],
            )
        })
        .collect()
}

fn export(store: &Store) -> String {
    let mut out = Vec::new();
    store
        .export(&RunFilter::default(), &mut out)
        .expect("export");
    String::from_utf8(out).expect("utf-8")
}

fn rollups(store: &Store) -> BTreeMap<(Level, String, u64), Rollup> {
    let mut out = BTreeMap::new();
    for level in Level::ALL {
        for probe in ["a", "b", "c"] {
            for (start, row) in store.rollup_rows(probe, level, 0, u64::MAX).expect("rows") {
                out.insert((level, probe.to_string(), start), row);
            }
        }
    }
    out
}

fn import(store: &Store, text: &str) -> Result<Imported, ImportError> {
    store.import(text.as_bytes(), "runs.jsonl")
}

#[test]
fn runs_of_an_older_export_without_their_request_line_import_and_export_the_same() {
    let mixed: Vec<ProbeRecord> = (history().into_iter().enumerate())
        .map(|(i, record)| ProbeRecord {
            request: record.request.filter(|_| i % 2 == 0),
            ..record
        })
        .collect();
    let original = Store::in_memory().expect("store");
    original.insert_records(&mixed).expect("insert");
    let text = export(&original);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains(r#""request":{"method":"GET","url":"http://127.0.0.1:8000/a"}"#));
    assert!(!lines[1].contains("request"), "{}", lines[1]);
    crate::store::for_each_backend(|copy| {
        import(&copy, &text).expect("import");
        assert_eq!(export(&copy), text);
    });
}

#[test]
fn an_export_imported_into_an_empty_store_exports_the_same_lines_and_rollups() {
    let original = Store::in_memory().expect("store");
    original.insert_records(&history()).expect("insert");
    let text = export(&original);
    assert_eq!(text.lines().count(), history().len());

    crate::store::for_each_backend(|copy| {
        assert_eq!(
            import(&copy, &text).expect("import"),
            Imported {
                runs: history().len() as u64,
                duplicates: 0
            }
        );
        assert_eq!(export(&copy), text);
        let imported = rollups(&copy);
        assert_eq!(imported, rollups(&original));
        copy.rebuild_rollups().expect("rebuild");
        assert_eq!(rollups(&copy), imported, "the rollups equal a rebuild");
        assert_eq!(
            copy.rollup_count(Level::Minute).expect("count"),
            1236,
            "a probe runs every 7 minutes: a minute row per run"
        );
    });
}

#[test]
fn runs_already_held_are_skipped_and_counted() {
    crate::store::for_each_backend(|store| {
        store.insert_records(&history()[..60]).expect("insert");
        let before = rollups(&store);
        let text: String = history()[..100]
            .iter()
            .chain(&history()[99..100])
            .map(|r| crate::store::export_line(r) + "\n")
            .collect();
        assert_eq!(
            import(&store, &text).expect("import"),
            Imported {
                runs: 40,
                duplicates: 61
            },
            "the 60 stored before, and the last line twice"
        );
        assert_eq!(store.record_count().expect("count"), 100);
        assert_ne!(rollups(&store), before);
        assert_eq!(
            import(&store, &text).expect("again"),
            Imported {
                runs: 0,
                duplicates: 101
            }
        );
        let rows = rollups(&store);
        store.rebuild_rollups().expect("rebuild");
        assert_eq!(rows, rollups(&store));
    });
}

#[test]
fn a_bad_line_anywhere_imports_nothing_and_names_its_number() {
    crate::store::for_each_backend(|store| {
        store.insert_records(&history()[..10]).expect("insert");
        let before = (export(&store), rollups(&store));
        // Good lines in more than one batch, then a bad one.
        let mut text: String = history()
            .iter()
            .cycle()
            .take(BATCH + 10)
            .enumerate()
            .map(|(i, r)| {
                let mut r = r.clone();
                r.scheduled_at_ms += (i / history().len()) as u64;
                crate::store::export_line(&r) + "\n"
            })
            .collect();
        text.push_str("{\"name\": \"a\"}\n");
        let error = import(&store, &text).expect_err("refused");
        assert_eq!(
            error.to_string(),
            format!("runs.jsonl:{}: missing field `location`", BATCH + 11)
        );
        assert_eq!(
            (export(&store), rollups(&store)),
            before,
            "nothing imported"
        );

        let long = format!(
            "{}\n{}\n",
            text.lines().next().expect("a line"),
            "x".repeat(MAX_LINE + 5)
        );
        assert_eq!(
            import(&store, &long).expect_err("refused").to_string(),
            "runs.jsonl:2: the line is longer than 1048576 bytes (1 MiB)"
        );
        assert_eq!(
            import(&store, "\n").expect_err("refused").to_string(),
            "runs.jsonl:1: the line is empty; every line is one run"
        );
        assert_eq!(
            (export(&store), rollups(&store)),
            before,
            "nothing imported"
        );
        assert_eq!(
            import(&store, "").expect("empty file"),
            Imported {
                runs: 0,
                duplicates: 0
            }
        );
    });
}

#[test]
fn the_last_line_needs_no_newline() {
    crate::store::for_each_backend(|store| {
        let line = crate::store::export_line(&history()[0]);
        assert_eq!(import(&store, &line).expect("import").runs, 1);
    });
}
