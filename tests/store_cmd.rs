//! `oewsprobe store stats|export|import|rebuild-rollups`, the real binary on real store files: exact outputs
//! and errors, the export → import round trip, all-or-nothing imports, the run lock, and the migration's
//! progress line (on a terminal only).

mod support;

use oewsprobe::probe::ProbeRecord;
use oewsprobe::store::Store;
use std::path::Path;
use std::process::Command;
use support::process::BIN;
use support::store::{DEC_1, config, history, lines, rollups, size, store_cmd, store_with};

#[test]
fn stats_shows_each_tier_and_refuses_a_missing_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, path) = config(dir.path(), "s");
    let missing = store_cmd(&config, &["stats"], "");
    assert_eq!(missing.code, Some(2));
    assert_eq!(
        missing.stderr,
        format!(
            "oewsprobe store stats: no store at {} (run.store): nothing has been recorded there\n",
            path.display()
        )
    );
    assert!(!path.exists(), "stats creates no store");

    store_with(&path, &history());
    let (file, wal) = (size(&path, ""), size(&path, "-wal"));
    let out = store_cmd(&config, &["stats"], "");
    assert_eq!((out.code, out.stderr.as_str()), (Some(0), ""));
    let total = oewsprobe::store::count_text(file + wal);
    assert_eq!(
        out.stdout,
        format!(
            "\
store         {}
size on disk  {total} bytes (file {}, WAL {})
newest run    2026-12-03T23:50:01Z
TIER    ROWS  OLDEST
runs     604  2026-12-01T00:00:01Z
minute   604  2026-12-01T00:00:00Z
hour     144  2026-12-01T00:00:00Z
day        6  2026-12-01T00:00:00Z
",
            path.display(),
            oewsprobe::store::count_text(file),
            oewsprobe::store::count_text(wal),
        )
    );
    let json = store_cmd(&config, &["stats", "--format", "json"], "");
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(
        doc,
        serde_json::json!({
            "store": path.display().to_string(),
            "file_bytes": file,
            "wal_bytes": wal,
            "runs": 604,
            "oldest_run_ms": DEC_1 + 1_234,
            "newest_run_ms": DEC_1 + 431 * 600_000 + 1_234,
            "rollups": [
                {"level": "minute", "rows": 604, "oldest_ms": DEC_1},
                {"level": "hour", "rows": 144, "oldest_ms": DEC_1},
                {"level": "day", "rows": 6, "oldest_ms": DEC_1},
            ],
        })
    );
}

#[test]
fn export_streams_the_selected_runs_oldest_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, path) = config(dir.path(), "s");
    let runs = history();
    // Stored newest first: the export orders them.
    store_with(&path, &runs.iter().rev().cloned().collect::<Vec<_>>());
    let all = store_cmd(&config, &["export"], "");
    assert_eq!((all.code, all.stderr.as_str()), (Some(0), ""));
    assert_eq!(all.stdout, lines(&runs));

    let day_2_first_hour = store_cmd(
        &config,
        &[
            "export",
            "--probe",
            "query",
            "--since",
            "2026-12-02T00:00:00Z",
            "--until",
            "2026-12-02T02:00:00+01:00",
        ],
        "",
    );
    let in_window = |from: u64, to: u64| -> Vec<ProbeRecord> {
        runs.iter()
            .filter(|r| r.probe == "query" && (from..to).contains(&r.scheduled_at_ms))
            .cloned()
            .collect()
    };
    const DAY: u64 = 86_400_000;
    let wanted = in_window(DEC_1 + DAY, DEC_1 + DAY + 3_600_000);
    assert_eq!(wanted.len(), 2, "00:10 and 00:35; 01:00:05 is past --until");
    assert_eq!(day_2_first_hour.stdout, lines(&wanted));
    let day_2 = store_cmd(
        &config,
        &[
            "export",
            "--probe",
            "query",
            "--since",
            "2026-12-02T00:00:00Z",
            "--until",
            "2026-12-03T00:00:00Z",
        ],
        "",
    );
    let wanted = in_window(DEC_1 + DAY, DEC_1 + 2 * DAY);
    assert_eq!(wanted.len(), 58);
    assert_eq!(day_2.stdout, lines(&wanted));

    let file = dir.path().join("runs.jsonl");
    let to_file = store_cmd(
        &config,
        &[
            "export",
            "--probe",
            "health",
            "--output",
            file.to_str().expect("utf-8"),
        ],
        "",
    );
    assert_eq!(
        (to_file.code, to_file.stdout, to_file.stderr.as_str()),
        (
            Some(0),
            format!("exported 432 runs to {}\n", file.display()),
            ""
        )
    );
    let health: Vec<ProbeRecord> = runs
        .iter()
        .filter(|r| r.probe == "health")
        .cloned()
        .collect();
    assert_eq!(
        std::fs::read_to_string(&file).expect("file"),
        lines(&health)
    );
    assert!(!dir.path().join("runs.jsonl.partial").exists());
}

#[test]
fn export_refuses_bad_times_unknown_probes_and_empty_windows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, path) = config(dir.path(), "s");
    store_with(&path, &history());
    let cases: [(&[&str], &str); 4] = [
        (
            &["export", "--since", "last tuesday"],
            "error: invalid value 'last tuesday' for '--since <TIME>': \"last tuesday\" is neither an RFC 3339 time like 2026-12-01T00:00:00Z nor a duration ago like 7d\n\nFor more information, try '--help'.\n",
        ),
        (
            &["export", "--probe", "helth", "--probe", "queries-x"],
            "oewsprobe store export: --probe helth: the store holds no run of it — did you mean \"health\"?\n--probe queries-x: the store holds no run of it (probes with runs: health, query)\n",
        ),
        (
            &[
                "export",
                "--since",
                "2026-12-02T00:00:00Z",
                "--until",
                "2026-12-02T00:00:00Z",
            ],
            "oewsprobe store export: --since is not before --until: no run is scheduled in between\n",
        ),
        (
            &["export", "--output", "/nonexistent-dir/runs.jsonl"],
            "oewsprobe store export: cannot write /nonexistent-dir/runs.jsonl.partial: No such file or directory (os error 2)\n",
        ),
    ];
    for (args, stderr) in cases {
        let out = store_cmd(&config, args, "");
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (Some(2), "", stderr),
            "{args:?}"
        );
    }
}

#[test]
fn an_export_imported_into_an_empty_store_exports_identically_with_the_same_rollups() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (from, from_path) = config(dir.path(), "from");
    let (to, to_path) = config(dir.path(), "to");
    store_with(&from_path, &history());
    let file = dir.path().join("runs.jsonl");
    store_cmd(&from, &["export", "-o", file.to_str().expect("utf-8")], "");

    let imported = store_cmd(&to, &["import", file.to_str().expect("utf-8")], "");
    assert_eq!(
        (imported.code, imported.stdout, imported.stderr.as_str()),
        (
            Some(0),
            format!(
                "imported 604 runs from {}; skipped 0 already in the store (same probe and scheduled time)\n",
                file.display()
            ),
            ""
        )
    );
    let again = store_cmd(&to, &["export"], "");
    assert_eq!(again.stdout, std::fs::read_to_string(&file).expect("file"));
    let rows = rollups(&to_path);
    assert_eq!(rows, rollups(&from_path));

    let rebuilt = store_cmd(&to, &["rebuild-rollups"], "");
    assert_eq!((rebuilt.code, rebuilt.stderr.as_str()), (Some(0), ""));
    let (head, tail) = rebuilt.stdout.split_once("s: ").expect("a time taken");
    assert!(
        head.strip_prefix("rebuilt the rollups of 604 runs in ")
            .is_some_and(|secs| secs.parse::<f64>().is_ok()),
        "{}",
        rebuilt.stdout
    );
    assert_eq!(tail, "604 minute rows, 144 hour rows, 6 day rows\n");
    assert_eq!(rollups(&to_path), rows, "the rollups equal a rebuild");

    let twice = store_cmd(
        &to,
        &["import", "-"],
        &std::fs::read_to_string(&file).expect("file"),
    );
    assert_eq!(
        twice.stdout,
        "imported 0 runs from <stdin>; skipped 604 already in the store (same probe and scheduled time)\n"
    );
    assert_eq!(rollups(&to_path), rows);
}

#[test]
fn an_import_with_a_bad_line_imports_nothing_and_names_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, path) = config(dir.path(), "s");
    store_with(&path, &history()[..3]);
    let before = store_cmd(&config, &["export"], "").stdout;
    let mut text = lines(&history()[3..]);
    text.push_str(&lines(&history()[1..2]).replace("\"verdict\":\"pass\"", "\"verdict\":\"ok\""));
    let out = store_cmd(&config, &["import", "-"], &text);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(2),
            "",
            "oewsprobe store import: <stdin>:602: verdict: unknown variant `ok`, expected one of `pass`, `fail`, `inconclusive`\n"
        )
    );
    assert_eq!(
        store_cmd(&config, &["export"], "").stdout,
        before,
        "nothing imported"
    );

    let long = format!("{}{}\n", lines(&history()[3..4]), "x".repeat((1 << 20) + 1));
    let out = store_cmd(&config, &["import", "-"], &long);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            Some(2),
            "oewsprobe store import: <stdin>:2: the line is longer than 1048576 bytes (1 MiB)\n"
        )
    );
    let missing = store_cmd(&config, &["import", "nope.jsonl"], "");
    assert_eq!(
        (missing.code, missing.stderr.as_str()),
        (
            Some(2),
            "oewsprobe store import: cannot read nope.jsonl: No such file or directory (os error 2)\n"
        )
    );
    assert_eq!(
        store_cmd(&config, &["export"], "").stdout,
        before,
        "nothing imported"
    );
}

#[test]
fn import_and_rebuild_are_refused_while_run_holds_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, path) = config(dir.path(), "s");
    store_with(&path, &history()[..3]);
    let held = Store::open_for_run(&path).expect("the run lock, as run takes it");
    let pid = std::process::id();
    for (args, what) in [
        (&["import", "-"][..], "import"),
        (&["rebuild-rollups"][..], "rebuild-rollups"),
    ] {
        let out = store_cmd(&config, args, &lines(&history()[3..]));
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr),
            (
                Some(2),
                "",
                format!(
                    "oewsprobe store {what}: refused: another oewsprobe run (pid {pid}) is using the store {}; stop it first ({what} writes runs and rollups, and only one process may)\n",
                    path.display()
                )
            )
        );
    }
    assert_eq!(held.record_count().expect("count"), 3, "nothing imported");
    let reading = store_cmd(&config, &["export"], "");
    assert_eq!(
        (reading.code, reading.stdout),
        (Some(0), lines(&history()[..3])),
        "export reads while run holds the store"
    );
    drop(held);
    let out = store_cmd(&config, &["import", "-"], &lines(&history()[3..]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

/// A store as an earlier version (schema 3) left it: the current store without its rollup, tier and class
/// tables, its request lines, its runs' locations and its leases.
fn store_of_schema_3(path: &Path, runs: &[ProbeRecord]) {
    store_with(path, runs);
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.execute_batch(
        "DROP TABLE rollups; DROP TABLE rollup_thresholds; DROP TABLE tiers; DROP TABLE rollup_classes;
         ALTER TABLE records DROP COLUMN request_line; DROP TABLE request_lines;
         DROP INDEX records_by_probe_location; ALTER TABLE records DROP COLUMN location;
         DROP TABLE leases; ALTER TABLE outbox DROP COLUMN claimed_generation; PRAGMA user_version = 3;",
    )
    .expect("downgrade");
}

#[test]
fn the_migration_shows_its_progress_on_a_terminal_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, path) = config(dir.path(), "s");
    store_of_schema_3(&path, &history());
    let quiet = store_cmd(&config, &["stats"], "");
    assert_eq!(
        (quiet.code, quiet.stderr.as_str()),
        (Some(0), ""),
        "no terminal: no line"
    );
    assert!(
        quiet.stdout.contains("\nminute   604  "),
        "{}",
        quiet.stdout
    );

    store_of_schema_3(&dir.path().join("t.sqlite"), &history());
    let (config, _) = self::config(dir.path(), "t");
    // `script` runs the command on a pseudo-terminal (util-linux; stdout and stderr both go to it).
    let shown = Command::new("script")
        .args(["--quiet", "--return", "--command"])
        .arg(format!(
            "{BIN} store stats --config {} >/dev/null",
            config.display()
        ))
        .arg("/dev/null")
        .output()
        .expect("script (util-linux) runs the command on a terminal; install util-linux");
    let text = String::from_utf8_lossy(&shown.stdout);
    assert_eq!(shown.status.code(), Some(0), "{text}");
    // The terminal writes the final newline as \r\n.
    let (progress, done) = text
        .strip_suffix("\r\n")
        .and_then(|text| text.rsplit_once('\r'))
        .unwrap_or_else(|| panic!("lines rewritten in place: {text:?}"));
    assert_eq!(
        progress, "\roewsprobe: building rollups from 604 runs: 0%",
        "one update per 8,192 runs"
    );
    let secs = done
        .strip_prefix("oewsprobe: building rollups from 604 runs: 100%, done in ")
        .and_then(|rest| rest.strip_suffix('s'))
        .unwrap_or_else(|| panic!("{done:?}"));
    assert!(secs.parse::<f64>().is_ok(), "{done:?}");
}
