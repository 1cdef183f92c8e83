//! Tiered retention on a real store (not a timed test; figures for README): bytes per run with the compact
//! `record_json` against the full record it replaced, how long the store's lock is held per pruning batch
//! and vacuum step, and how long the one `VACUUM` that switches an older store to incremental vacuum takes.
//!
//! `cargo bench --bench retention -- [PROBES] [DAYS]` (default 50 probes × one run a minute × 3 days).

use oewsprobe::history::Retention;
use oewsprobe::probe::{FailureClass, Finding, ProbeRecord, RequestLine, Timings, Verdict};
use oewsprobe::store::{BATCH, Pruning, Store};
use std::time::{Duration, Instant};

const MINUTE: u64 = 60_000;
const DAY: u64 = 86_400_000;
const NOW: u64 = 1_800_000_000_000 - 1_800_000_000_000 % MINUTE;

/// A realistic run: timings of every phase, a failure (with a finding) in 50.
fn record(probe: usize, at_ms: u64, i: u64) -> ProbeRecord {
    let failed = i % 50 == 0;
    let ms = |n: u64| Duration::from_micros(n * 1_000 + i % 997);
    ProbeRecord {
        location: String::new(),
        latency_percentiles: None,
        probe: format!("probe-{probe:02}"),
        target: "https://api.example.org".into(),
        request: Some(RequestLine {
            method: "GET".into(),
            url: format!("https://api.example.org/api/v1/probe-{probe:02}"),
        }),
        scheduled_at_ms: at_ms,
        verdict: if failed { Verdict::Fail } else { Verdict::Pass },
        class: failed.then_some(FailureClass::ServerError),
        status: Some(if failed { 500 } else { 200 }),
        latency: ms(180 + i % 40),
        timings: Timings {
            start_delay: Duration::from_micros(300 + i % 200),
            dns: Some(ms(2)),
            connect: Some(ms(25)),
            first_byte: Some(ms(150)),
            total: ms(179 + i % 40),
            tls: None,
        },
        body_bytes: 1_500 + i % 300,
        queries: 0,
        findings: if failed {
            vec![Finding::of_request(
                "status",
                &format!("GET /api/v1/probe-{probe:02}"),
                "200",
                "500",
                None,
            )]
        } else {
            vec![]
        },
        retry_after: None,
        known_drift: Vec::new(),
        tls: None,
    }
}

fn size(path: &std::path::Path) -> u64 {
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    std::fs::metadata(path).expect("size").len()
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let probes = args.first().copied().unwrap_or(50) as usize;
    let days = args.get(1).copied().unwrap_or(3);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("oewsprobe.sqlite");
    let store = Store::open(&path).expect("open");
    let minutes = days * DAY / MINUTE;
    let started = Instant::now();
    let mut batch = Vec::with_capacity(1_000);
    let mut full_bytes = 0u64;
    let mut i = 0u64;
    for minute in 0..minutes {
        for probe in 0..probes {
            let r = record(probe, NOW - days * DAY + minute * MINUTE, i);
            full_bytes += serde_json::to_string(&r).expect("json").len() as u64;
            batch.push(r);
            i += 1;
            if batch.len() == 1_000 {
                store.insert_records(&batch).expect("insert");
                batch.clear();
            }
        }
    }
    store.insert_records(&batch).expect("insert");
    let runs = store.record_count().expect("count");
    let compact: i64 = rusqlite::Connection::open(&path)
        .expect("open")
        .query_row("SELECT SUM(LENGTH(record_json)) FROM records", [], |r| {
            r.get(0)
        })
        .expect("sum");
    let file = size(&path);
    println!(
        "{runs} runs ({probes} probes x 1/min x {days} d) written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "record_json: full {:.0} B/run, compact {:.0} B/run; file {} MB = {:.0} B/run (rollups included)",
        full_bytes as f64 / runs as f64,
        compact as f64 / runs as f64,
        file / 1_000_000,
        file as f64 / runs as f64
    );

    // Prune raw runs to one day: two thirds of the passes go.
    let cut = Retention {
        raw: Duration::from_secs(24 * 3600),
        minute: Duration::from_secs(2 * 24 * 3600),
        ..Retention::default()
    }
    .cutoffs(NOW);
    let mut pruning = Pruning::new(cut, BATCH);
    let mut holds: Vec<f64> = Vec::new();
    let started = Instant::now();
    loop {
        let batch = Instant::now();
        let more = store.prune_batch(&mut pruning).expect("batch");
        holds.push(batch.elapsed().as_secs_f64() * 1e3);
        if !more {
            break;
        }
    }
    let total = started.elapsed().as_secs_f64();
    let summary = pruning.summary().clone();
    let mut sorted = holds.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "pruning: {:?}\n  {:.1} s in {} transactions; lock held per transaction: median {:.1} ms, max {:.1} ms",
        summary,
        total,
        holds.len(),
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1]
    );
    println!(
        "after pruning and vacuum: file {} MB",
        size(&path) / 1_000_000
    );
    drop(store);

    // The previous layout: full JSON in every row, no auto_vacuum. Then the one VACUUM that switches it.
    let old = dir.path().join("old.sqlite");
    let store = Store::open(&old).expect("open");
    let mut i = 0u64;
    for minute in 0..minutes {
        batch.clear();
        for probe in 0..probes {
            batch.push(record(probe, NOW - days * DAY + minute * MINUTE, i));
            i += 1;
        }
        store.insert_records(&batch).expect("insert");
    }
    drop(store);
    let conn = rusqlite::Connection::open(&old).expect("open");
    let mut update = conn
        .prepare("UPDATE records SET record_json = ?1 WHERE id = ?2")
        .expect("prepare");
    let tx = conn.unchecked_transaction().expect("tx");
    let mut i = 0u64;
    let mut id = 1i64;
    for minute in 0..minutes {
        for probe in 0..probes {
            let r = record(probe, NOW - days * DAY + minute * MINUTE, i);
            update
                .execute(rusqlite::params![
                    serde_json::to_string(&r).expect("json"),
                    id
                ])
                .expect("update");
            i += 1;
            id += 1;
        }
    }
    tx.commit().expect("commit");
    drop(update);
    conn.execute_batch(
        "DROP TABLE tiers; DROP TABLE rollup_classes; DROP INDEX rollup_hour_counts; DROP INDEX rollup_day_counts;
         ALTER TABLE records DROP COLUMN request_line; DROP TABLE request_lines;
         DROP INDEX records_by_probe_location; ALTER TABLE records DROP COLUMN location;
         DROP TABLE leases; ALTER TABLE outbox DROP COLUMN claimed_generation;
         PRAGMA auto_vacuum = NONE; VACUUM; PRAGMA user_version = 4",
    )
    .expect("old layout");
    drop(conn);
    let old_size = size(&old);
    println!(
        "previous layout: file {} MB = {:.0} B/run",
        old_size / 1_000_000,
        old_size as f64 / runs as f64
    );
    let started = Instant::now();
    let store = Store::open(&old).expect("open and switch");
    println!(
        "opening it (migrations 5 to 11 and the VACUUM that switches on incremental vacuum): {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop(store);
}
